#pragma once
// A node's view of the machine: what makes a namespace node look like a computer of its own
// rather than a network namespace on the host (docs/topology.md, "Nodes as machines").
//
// Per node (unless it says `isolate: false`) a *view holder* process lives in the node's network
// namespace and in a UTS and a mount namespace of its own, made when the node boots:
//   hostname          the node's name (sethostname in the UTS namespace)
//   /etc/hosts        every node of the lab with its addresses, plus localhost (hosts_text)
//   /etc/resolv.conf  the node's `dns` servers, else none (resolv_text)
//   /etc/hostname     the node's name
//                     (the three files live in the node's /run/.vnet/ and are bind-mounted
//                     over the host's; a DHCP client that rewrites resolv.conf in place writes
//                     the node's copy)
//   /run, /tmp        empty tmpfs (/var/run and /var/lock are symlinks into /run on Debian)
//   /var/lib          an overlay: the host's /var/lib below, the node's writes on a tmpfs above
//                     (a tmpfs with misc/ and dhcp/ where overlayfs is missing)
//   /sys              a sysfs of the node's network namespace, as `ip netns exec` mounts one
// The host's paths the lab itself needs inside a node — the lab's state directory and the
// topology file's directory — are bound back at the same paths when a new mount hides them.
// The view's mounts are private (no propagation either way; the holder also drops its copy of
// /run/netns, which would pin other nodes' network namespaces): nothing a node mounts reaches
// the host, and nothing of a node is mounted on the host, so there is nothing to unmount:
// the namespaces live exactly as long as a process is in them. Every process of the node — its
// `commands`, listener and VRRP daemon, `exec` steps and `vnet lab exec` — enters the holder's
// namespaces with setns(2); sockets of ping/tcp probes only need the network namespace.
// The holder ("vnet-view: NODE" in ps; a `sleep infinity` once set up) is a process of the node
// like any other: `kill`/`stop` end it with the rest (the view starts afresh at the next boot,
// like a diskless machine), `down` ends it with the lab.

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.hh"
#include "lab/topology.hh"

namespace vnet::lab {

// /etc/hosts of node `self`: localhost lines, then one line per address of every node of the
// lab that has addresses ("10.0.10.11\tpc1"), in topology order; `self` without an address gets
// Debian's "127.0.1.1\tNAME" so its own name resolves.
std::string hosts_text(const Topology& t, const std::string& self);
// /etc/resolv.conf: "nameserver X" per server, or a comment saying there is none (the resolver
// then tries 127.0.0.1, a DNS server inside the node).
std::string resolv_text(const std::string& lab, const std::string& node,
                        const std::vector<std::string>& servers);

struct ViewSpec {
  std::string netns;     // the node's network namespace (/run/netns/NAME)
  std::string hostname;  // the node's name
  std::string hosts;     // /etc/hosts (hosts_text)
  std::string resolv;    // /etc/resolv.conf (resolv_text)
  // Host directories that must stay visible at the same path inside the view (state dir, the
  // topology file's directory).
  std::vector<std::string> keep;
};

// A holder forked and setting its view up; `ready_fd` reaches end of file when it is done.
struct PendingView {
  pid_t pid = 0;  // a child of the caller, which records it at once
  int ready_fd = -1;
  std::string node;
};
// Forks the holder and returns at once: the holder sets the view up (in parallel with the
// caller's next node) and then sleeps until killed. The caller awaits it before the first
// process enters the view.
Result<PendingView> start_view(const ViewSpec& spec);
// Waits until the holder has reported; an error names the step that failed ("mount tmpfs on
// /tmp: …") and the holder is then reaped. Closes ready_fd; a second call returns at once.
Status await_view(PendingView& view);

// Descriptors of a holder's UTS and mount namespaces, opened before a fork so the child only
// calls setns (enter_view).
struct ViewFds {
  int uts = -1, mnt = -1;
};
Result<ViewFds> open_view(pid_t holder);
void close_view(ViewFds& fds);
// In a forked child: joins the view (after the network namespace) and goes back to the working
// directory it had, or / where the view has no such directory. False when setns failed.
bool enter_view(const ViewFds& fds, const char* cwd);

}  // namespace vnet::lab
