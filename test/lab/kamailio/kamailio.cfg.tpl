#!KAMAILIO
# Registrar and proxy for the lab tests: digest auth without a database, in-memory location,
# NAT-aware contacts (received/rport), record-routing, INVITEs routed to registered users.
# @@NAME@@ placeholders are filled in by test/lab/lib/kamailio.ts.

debug=@@DEBUG@@
log_stderror=yes
memdbg=5
memlog=5
children=1
tcp_children=1
auto_aliases=no
@@LISTEN@@
alias="@@DOMAIN@@"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "auth.so"
loadmodule "nathelper.so"
@@OUTBOUND_MODULES@@

modparam("usrloc", "db_mode", 0)
modparam("registrar", "default_expires", 600)
modparam("registrar", "min_expires", @@MIN_EXPIRES@@)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("rr", "enable_full_lr", 1)
@@OUTBOUND_PARAMS@@

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!sanity_check("17895", "7")) {
		exit;
	}
	force_rport();
	if (is_method("CANCEL")) {
		if (t_check_trans()) t_relay();
		exit;
	}
	if (has_totag()) {
		if (loose_route()) {
			t_relay();
			exit;
		}
		if (is_method("ACK")) {
			if (t_check_trans()) t_relay();
			exit;
		}
		sl_send_reply("404", "Not here");
		exit;
	}
	t_check_trans();
	if (is_method("OPTIONS") && uri == myself && $rU == $null) {
		sl_send_reply("200", "Keepalive");
		exit;
	}
	if (is_method("REGISTER")) {
		route(AUTH_WWW);
		if (nat_uac_test("19")) {
			fix_nated_register();
		}
		if (!save("location")) {
			sl_reply_error();
		}
		exit;
	}
	if (is_method("INVITE|MESSAGE|SUBSCRIBE|REFER")) {
		if (@@INVITE_AUTH@@ && from_uri == myself) {
			route(AUTH_PROXY);
		}
@@FAR_END_NAT@@
		record_route();
		if (!lookup("location")) {
			sl_send_reply("404", "Not Found");
			exit;
		}
		t_relay();
		exit;
	}
	sl_send_reply("405", "Method Not Allowed");
}
@@ROUTES@@

route[PASSWORD] {
	$var(pw) = "";
@@USERS@@
}

route[AUTH_WWW] {
	route(PASSWORD);
	if ($var(pw) == "" || !pv_www_authenticate("$td", "$var(pw)", "0")) {
		www_challenge("$td", "0");
		exit;
	}
	if ($au != $tU) {
		sl_send_reply("403", "Forbidden (auth user)");
		exit;
	}
	consume_credentials();
}

route[AUTH_PROXY] {
	route(PASSWORD);
	if ($var(pw) == "" || !pv_proxy_authenticate("$fd", "$var(pw)", "0")) {
		proxy_challenge("$fd", "0");
		exit;
	}
	consume_credentials();
}
