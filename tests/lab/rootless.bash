# Shared by the rootless lab tests (lab_rootless.sh, lab_rootless_vm.sh), sourced after lib.sh:
# a directory an unprivileged user may enter ($RL, with a copy of the binary), `run_as UID ARGS`
# to run `vnet ARGS` as that uid, the users made for the test and their cleanup on every exit.
#   rootless_setup FILE...   makes $RL and copies the binary and FILEs (mode 644; *.udhcpc 755)
#   ROOTLESS_LABS            lab names `down` is run for at exit, as every uid in UIDS
#   USERS, UIDS              users to delete and uids whose processes are killed at exit
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }
[ "$(cat /proc/sys/user/max_user_namespaces)" -gt 0 ] || { echo "SKIP: no user namespaces"; exit 77; }

USERS=()
UIDS=()
ROOTLESS_LABS=()
RL=""
rootless_setup() {
  local f
  RL=$(mktemp -d /tmp/vnet-rootless.XXXXXX)
  chmod 755 "$RL"
  cp "$VNET" "$RL/vnet"
  chmod 755 "$RL/vnet"
  for f in "$@"; do
    cp "$f" "$RL/"
    case $f in *.udhcpc) chmod 755 "$RL/${f##*/}" ;; *) chmod 644 "$RL/${f##*/}" ;; esac
  done
}

# The uid's processes; zombies count as gone (lib.sh `gone`).
leftovers() { ps -o pid=,stat= -u "$1" 2>/dev/null | awk '$2 !~ /^Z/ {print $1}'; }
rootless_cleanup() {
  local u l p
  for u in "${UIDS[@]:-}"; do
    [ -n "$u" ] || continue
    for l in "${ROOTLESS_LABS[@]:-}"; do
      [ -n "$l" ] && { run_as "$u" lab down "$l" >/dev/null 2>&1 || true; }
    done
    for p in $(leftovers "$u"); do kill -9 "$p" 2>/dev/null || true; done
  done
  for u in "${USERS[@]:-}"; do [ -n "$u" ] && userdel "$u" 2>/dev/null || true; done
  [ -z "$RL" ] || rm -rf "$RL"
}
# lib.sh's cleanup exits with the status it finds in $?: keep the test's.
rootless_on_exit() {
  local rc=$?
  rootless_cleanup || true
  set +e
  (exit $rc)
  cleanup
}
trap rootless_on_exit EXIT INT TERM

# run_as UID ARGS...: `vnet ARGS` as that uid (its own groups only), in the outside namespace
# ($OUT, default $T-out), with a private XDG_RUNTIME_DIR and nothing of this root shell's
# environment.
run_as() {
  local u=$1; shift
  local g
  g=$(getent passwd "$u" | cut -d: -f4)
  # From $RL: the caller's directory may be one the user cannot enter (CI's is root's, 0700).
  (cd "$RL" && ip netns exec "${OUT:-$T-out}" setpriv --reuid="$u" --regid="${g:-$u}" \
    --clear-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$RL" \
    XDG_RUNTIME_DIR="$RL/xdg-$u" "$RL/vnet" "$@")
}

# rootless_user SUFFIX: makes user vr$$SUFFIX and sets NEW_UID to its uid when useradd gave it
# subordinate ids (/etc/login.defs SUB_UID_COUNT), else to "".
rootless_user() {
  local name=vr$$$1
  NEW_UID=""
  useradd -M -N -s /usr/sbin/nologin "$name" 2>/dev/null || return 0
  USERS+=("$name")
  if grep -q "^$name:" /etc/subuid && grep -q "^$name:" /etc/subgid; then
    NEW_UID=$(id -u "$name")
  fi
}
