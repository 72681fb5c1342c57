# Sourced by the scripts in scripts/: run as root, as the README's commands promise on a fresh
# Debian 12 system logged in as root (which has no sudo) and for a sudo user alike.
#   as_root "$0" "$@"   re-runs the calling script with sudo when not root (or says how).
as_root() {
  [ "$(id -u)" = 0 ] && return 0
  if command -v sudo >/dev/null 2>&1; then
    exec sudo --preserve-env=VNET_STATE_DIR,FUZZ_SECONDS,VNET_TEST_LOGS "$@"
  fi
  echo "$(basename "$1"): run as root (namespaces, apt-get); sudo is not installed" >&2
  exit 1
}
