/* Generates the G.722 cross-check vectors of this folder with Debian's libspandsp (see INDEX.md).
 * Build: gcc -O2 -o g722-ref g722-ref.c -lspandsp -lm   (Debian package libspandsp-dev)
 * Usage: g722-ref gen-adpcm|gen-qmf|gen-codes N > file      deterministic inputs
 *        g722-ref enc|dec [test] < in > out                 spandsp 64 kbit/s, test = ITU test mode
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>
#include <spandsp/private/g722.h>

static uint32_t seed = 722;
static uint32_t lcg(void) { seed = seed * 1664525u + 1013904223u; return seed; }
static double uniform(void) { return (lcg() >> 8) / 16777216.0; }
static int16_t clip(double v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : (int16_t) lrint(v); }

static void put(int16_t v) { fwrite(&v, 2, 1, stdout); }

/* Sub-band test-mode input: every kind of segment the ADPCM must survive, full scale included. */
static void gen_adpcm(int n) {
  for (int i = 0; i < n; i++) {
    int seg = (i / 500) % 8;
    double t = i / 8000.0, v = 0;
    switch (seg) {
    case 0: v = 0; break;
    case 1: v = 2000 * sin(2 * M_PI * 440 * t); break;
    case 2: v = (uniform() * 2 - 1) * 32768; break;
    case 3: v = (i / 3) % 2 ? 32767 : -32768; break;
    case 4: v = 30000 * sin(2 * M_PI * 3900 * t); break;
    case 5: v = (uniform() * 2 - 1) * 300; break;
    case 6: v = 32767 * sin(2 * M_PI * (100 + 3800 * (i % 500) / 500.0) * t); break;
    default: v = i % 50 < 25 ? 20000 : -20000; break;
    }
    put(clip(v));
  }
}

/* 16 kHz input for the full codec, kept below the level where the QMF outputs exceed 15 bits. */
static void gen_qmf(int n) {
  for (int i = 0; i < n; i++) {
    int seg = (i / 1600) % 5;
    double t = i / 16000.0, v = 0;
    switch (seg) {
    case 0: v = 6000 * sin(2 * M_PI * 1000 * t) + 3000 * sin(2 * M_PI * 5500 * t); break;
    case 1: v = (uniform() * 2 - 1) * 8000; break;
    case 2: v = 12000 * sin(2 * M_PI * (50 + 7900 * (i % 1600) / 1600.0) * t); break;
    case 3: v = 0; break;
    default: v = 10000 * sin(2 * M_PI * 300 * t) * (0.5 + 0.5 * sin(2 * M_PI * 4 * t)); break;
    }
    put(clip(v));
  }
}

int main(int argc, char **argv) {
  static uint8_t in[1 << 22], code[1 << 22];
  static int16_t pcm[1 << 22];
  if (argc < 2) return 2;
  if (strncmp(argv[1], "gen-", 4) == 0) {
    int n = argc > 2 ? atoi(argv[2]) : 4000;
    if (strcmp(argv[1], "gen-adpcm") == 0) gen_adpcm(n);
    else if (strcmp(argv[1], "gen-qmf") == 0) gen_qmf(n);
    else for (int i = 0; i < n; i++) { uint8_t b = lcg() >> 24; fwrite(&b, 1, 1, stdout); }
    return 0;
  }
  int test = argc > 2 && strcmp(argv[2], "test") == 0;
  size_t n = fread(in, 1, sizeof in, stdin);
  if (strcmp(argv[1], "enc") == 0) {
    g722_encode_state_t *s = g722_encode_init(NULL, 64000, 0);
    s->itu_test_mode = test;
    memcpy(pcm, in, n);
    fwrite(code, 1, g722_encode(s, code, pcm, (int) (n / 2)), stdout);
  } else {
    g722_decode_state_t *s = g722_decode_init(NULL, 64000, 0);
    s->itu_test_mode = test;
    fwrite(pcm, 2, g722_decode(s, pcm, in, (int) n), stdout);
  }
  return 0;
}
