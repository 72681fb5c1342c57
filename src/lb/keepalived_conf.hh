#pragma once
// keepalived.conf's load-balancing half (keepalived 2.2.7 check/check_parser.c and the checker
// parsers) read into an LbConfig, through the VRRP reader's block hook (vrrp/keepalived_conf.hh),
// so one file, one lexer (comments, quoting, includes, limits) and one list of messages serve both
// halves.
//
// Read: virtual_server IP PORT | fwmark N | group NAME, virtual_server_group, real_server,
// sorry_server, and the checkers TCP_CHECK, HTTP_GET and SSL_GET (url { path digest status_code
// virtualhost }), MISC_CHECK (misc_path misc_timeout misc_dynamic), SMTP_CHECK (helo_name, the
// deprecated host { }), DNS_CHECK (type name), UDP_CHECK (payload require_reply min_reply_length
// max_reply_length), PING_CHECK, FILE_CHECK (track_file weight, with the global track_file
// blocks) and BFD_CHECK (recognised; its own keywords kept as written),
// with the timers delay_loop, connect_timeout, retry (and the old nb_get_retry, with keepalived's
// deprecation warning), delay_before_retry and warmup resolved as keepalived does: checker, else
// real server, else virtual server, else the checker type's default (retry 1, MISC_CHECK 0,
// DNS_CHECK 3; delay_before_retry 1 s, HTTP_GET/SSL_GET 3 s, DNS_CHECK delay_loop; warmup
// delay_loop; delay_loop 60 s; connect_timeout 5 s; misc_timeout delay_loop).
//
// Messages use keepalived's wording with file:line. Invalid values (a weight out of range, an
// unknown lvs_sched or lvs_method, a malformed address, digest or status code) are errors that
// refuse the configuration, as the VRRP half does; what keepalived repairs and runs with is a
// warning with keepalived's words, and the repair is made: "Virtual server [10.0.0.1]:tcp:80 has
// no real servers - ignoring", "no protocol set - defaulting to UDP", "HTTP/SSL_GET checker has
// no urls specified - ignoring", "No script path has been specified for MISC_CHECKER - skipping",
// "quorum exceeds total weight", "hysteresis >= quorum". Unknown keywords are warnings.

#include <string>

#include "base/result.hh"
#include "lb/config.hh"
#include "vrrp/keepalived_conf.hh"

namespace vnet::lb {

struct KeepalivedFullConfig {
  vrrp::KeepalivedConfig vrrp;  // its `warnings` hold both halves' warnings
  LbConfig lb;
};

// `options`: as vrrp::parse_keepalived_conf (the config id of `@ID` lines).
Result<KeepalivedFullConfig> parse_keepalived_conf_full(const std::string& text,
                                                        const std::string& file,
                                                        const vrrp::ReadOptions& options = {});
Result<KeepalivedFullConfig> load_keepalived_conf_full(const std::string& path,
                                                       const vrrp::ReadOptions& options = {});

// keepalived's FMT_VS: "[10.0.0.1]:tcp:80", "FWM 7", "[group]".
std::string keepalived_vs_name(const ServiceKey& key);

}  // namespace vnet::lb
