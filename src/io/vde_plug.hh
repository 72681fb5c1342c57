#pragma once
// VdePlug: the client side of the libvdeplug protocol — what vde_plug, wirefilter and QEMU's
// `-netdev vde` do to get a port on a VDE switch (vdeplug4 libvdeplug4/libvdeplug_vde.c
// vde_vde_open; vde-2 src/lib/libvdeplug.c). The switch side is vde.cc.
//
// Handshake (one blocking exchange, bounded by a timeout):
//  1. connect a SOCK_STREAM socket to SWITCH/ctl (SWITCH is the switch's directory, as given to
//     vde_switch -s or vnet switch -s; a "vde://" prefix is accepted);
//  2. bind a SOCK_DGRAM socket to SWITCH/.PID-N (or, when that directory is not writable,
//     /tmp/vde.PID-N), mode 0700;
//  3. send struct request_v3 in native byte order: magic 0xfeedface, version 3, type 1
//     (REQ_NEW_PORT0: any free port) or 0 | port << 8 for a given port, the bound sockaddr_un
//     (110 bytes on Linux), then the description, not NUL-terminated, at most 128 bytes;
//  4. read back one struct sockaddr_un: the switch's data socket; connect the datagram socket
//     to it, and unlink our own bound path (the connected pair keeps working, as vdeplug4).
// Then one Ethernet frame per datagram on `data`; the switch closes the port when `ctl` closes
// (its EOF on ctl), and we learn that the switch went away from EOF on `ctl`.
//
// Errors name the switch path and the step: "vde plug /run/sw1: connect ctl: No such file or
// directory", "... the switch closed the connection without an answer (refused?)".

#include <string>

#include "base/clock.hh"
#include "base/fd.hh"
#include "base/result.hh"

namespace vnet::io {

struct VdePlug {
  UniqueFd ctl;   // the control stream; keep it open for the life of the port
  UniqueFd data;  // connected SOCK_DGRAM, non-blocking, close-on-exec
  std::string switch_dir;
  std::string switch_data_path;  // the switch's data socket, as it answered
};

// Plugs into the switch at `dir`. `port` 0 asks for any free port.
Result<VdePlug> vde_plug_connect(const std::string& dir, const std::string& description,
                                 uint32_t port = 0, Duration timeout = std::chrono::seconds(5));

}  // namespace vnet::io
