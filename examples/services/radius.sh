#!/bin/sh
# FreeRADIUS for examples/services.yaml, run by the node `radius` (its `commands`): a private
# copy of Debian's configuration in $VNET_RUN_DIR with this example's clients and users, run in
# the foreground as root in the node's namespace, logging to $VNET_RUN_DIR/radius.log.
set -e
R=$VNET_RUN_DIR/raddb
rm -rf "$R"
cp -a /etc/freeradius/3.0 "$R"
sed -i -e 's/^\(\s*\)\(user\|group\) = freerad/\1#\2 = freerad/' \
  -e "s|^run_dir = .*|run_dir = $VNET_RUN_DIR|" -e "s|^logdir = .*|logdir = $VNET_RUN_DIR|" \
  "$R/radiusd.conf"
cp "$VNET_LAB_DIR/services/clients.conf" "$R/clients.conf"
cp "$VNET_LAB_DIR/services/users" "$R/mods-config/files/authorize"
exec freeradius -f -l "$VNET_RUN_DIR/radius.log" -d "$R"
