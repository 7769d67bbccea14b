// Call-progress tones per country, as data in the notation of tones.ts. Sources: ITU-T E.180
// Supplement 2 ("Various tones used in national networks", the tables the ITU publishes as
// tones-0203), national specifications where it defers to them (BT SIN 350 for the UK, ACIF
// S002 for Australia) and ETSI ES 201 970 for the harmonised European set. The keys are exactly
// the values the registry accepts for `media.toneCountry`.
import { type RingCadence, type ToneSpec, ToneError, parseRingCadence, parseTone } from './tones.js';

export const TONE_PLAN_COUNTRIES = ['us', 'uk', 'de', 'fr', 'it', 'es', 'nl', 'se', 'au', 'jp', 'br', 'etsi'] as const;
export type ToneCountry = (typeof TONE_PLAN_COUNTRIES)[number];

export const TONE_NAMES = ['dial', 'ringback', 'busy', 'congestion', 'callWaiting'] as const;
export type ToneName = (typeof TONE_NAMES)[number];

/** One country's tones in notation, plus the cadence of the phone's own ringer. */
export type TonePlan = Readonly<Record<ToneName | 'ringCadence', string>>;

export interface ParsedTonePlan {
  readonly country: ToneCountry;
  readonly tones: Readonly<Record<ToneName, ToneSpec>>;
  readonly ringCadence: RingCadence;
}

export const TONE_PLANS: Readonly<Record<ToneCountry, TonePlan>> = {
  // North America: AT&T's Precise Tone Plan.
  us: {
    dial: '350+440',
    ringback: '440+480/2000,0/4000',
    busy: '480+620/500,0/500',
    congestion: '480+620/250,0/250',
    callWaiting: '440/300,0/10000',
    ringCadence: '2000,4000',
  },
  // BT SIN 350: double ring, and a two-burst congestion tone.
  uk: {
    dial: '350+440',
    ringback: '400+450/400,0/200,400+450/400,0/2000',
    busy: '400/375,0/375',
    congestion: '400/400,0/350,400/225,0/525',
    callWaiting: '400/100,0/4000',
    ringCadence: '400,200,400,2000',
  },
  de: {
    dial: '425',
    ringback: '425/1000,0/4000',
    busy: '425/480,0/480',
    congestion: '425/240,0/240',
    callWaiting: '425/200,0/200,425/200,0/5000',
    ringCadence: '1000,4000',
  },
  fr: {
    dial: '440',
    ringback: '440/1500,0/3500',
    busy: '440/500,0/500',
    congestion: '440/250,0/250',
    callWaiting: '440/300,0/10000',
    ringCadence: '1500,3500',
  },
  // Italy's dial tone is itself a cadence (E.180: 0.2 on 0.2 off 0.6 on 1.0 off).
  it: {
    dial: '425/200,0/200,425/600,0/1000',
    ringback: '425/1000,0/4000',
    busy: '425/500,0/500',
    congestion: '425/200,0/200',
    callWaiting: '425/400,0/100,425/250,0/100,425/150,0/14000',
    ringCadence: '1000,4000',
  },
  es: {
    dial: '425',
    ringback: '425/1500,0/3000',
    busy: '425/200,0/200',
    congestion: '425/200,0/200,425/200,0/200,425/200,0/600',
    callWaiting: '425/175,0/175,425/175,0/3500',
    ringCadence: '1500,3000',
  },
  nl: {
    dial: '425',
    ringback: '425/1000,0/4000',
    busy: '425/500,0/500',
    congestion: '425/250,0/250',
    callWaiting: '425/500,0/9500',
    ringCadence: '1000,4000',
  },
  se: {
    dial: '425',
    ringback: '425/1000,0/5000',
    busy: '425/250,0/250',
    congestion: '425/250,0/750',
    callWaiting: '425/200,0/500,425/200,0/9100',
    ringCadence: '1000,5000',
  },
  // ACIF S002: 413+438 Hz dial and ringback. Congestion is the busy cadence with every other
  // burst 10 dB lower; the notation has no per-burst level, so it plays like busy here.
  au: {
    dial: '413+438',
    ringback: '413+438/400,0/200,413+438/400,0/2000',
    busy: '425/375,0/375',
    congestion: '425/375,0/375',
    callWaiting: '425/200,0/200,425/200,0/4400',
    ringCadence: '400,200,400,2000',
  },
  // Japan's ringback and call-waiting tones are 400 Hz modulated by 16 Hz.
  jp: {
    dial: '400',
    ringback: '400*16/1000,0/2000',
    busy: '400/500,0/500',
    congestion: '400/500,0/500',
    callWaiting: '400*16/500,0/8000',
    ringCadence: '1000,2000',
  },
  br: {
    dial: '425',
    ringback: '425/1000,0/4000',
    busy: '425/250,0/250',
    congestion: '425/250,0/250,425/750,0/250',
    callWaiting: '425/50,0/1000',
    ringCadence: '1000,4000',
  },
  // ETSI ES 201 970: the harmonised 425 Hz set most European networks converge on.
  etsi: {
    dial: '425',
    ringback: '425/1000,0/4000',
    busy: '425/500,0/500',
    congestion: '425/250,0/250',
    callWaiting: '425/200,0/600,425/200,0/8000',
    ringCadence: '1000,4000',
  },
};

function isToneCountry(country: string): country is ToneCountry {
  return (TONE_PLAN_COUNTRIES as readonly string[]).includes(country);
}

const parsed = new Map<ToneCountry, ParsedTonePlan>();

/** The parsed plan of `country` (a `media.toneCountry` value); throws ToneError `unknownCountry` for any other. */
export function tonePlanFor(country: string): ParsedTonePlan {
  if (!isToneCountry(country)) {
    throw new ToneError('unknownCountry', `no tone plan for "${country}"; known: ${TONE_PLAN_COUNTRIES.join(', ')}`);
  }
  let plan = parsed.get(country);
  if (!plan) {
    const src = TONE_PLANS[country];
    const tones = Object.fromEntries(TONE_NAMES.map((name) => [name, parseTone(src[name])])) as Record<ToneName, ToneSpec>;
    plan = { country, tones, ringCadence: parseRingCadence(src.ringCadence) };
    parsed.set(country, plan);
  }
  return plan;
}
