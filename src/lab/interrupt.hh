#pragma once
// SIGINT/SIGTERM for long lab commands (up, test): the handler only records the signal
// (async-signal-safe); `up` and the scenario runner look at it between phases and steps and
// tear down in the normal flow.

namespace vnet::lab {

// Installs handlers for SIGINT and SIGTERM (without SA_RESTART, so a blocking wait returns).
void install_interrupt_handlers();
// The signal received (SIGINT, SIGTERM) or 0.
int interrupted();

}  // namespace vnet::lab
