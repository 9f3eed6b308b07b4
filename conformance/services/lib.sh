# What every native launcher (conformance/services/<name>/launcher.sh) shares: logging, pid
# files, waiting for readiness, stopping, status and the command dispatch. A launcher sources
# this file, then sets
#
#   service_name  the prefix of its progress lines, e.g. "chroma"
#   server_label  how messages name the server (default: service_name)
#   url           what start and status print on stdout
#   pid_file      where the server's pid is recorded
#   log_file      the server's output, whose tail is shown when it fails to start
#
# and defines install, start, stop, status and `ready` (the server answers), then ends with
# `launcher_main "$@"`. A launcher may redefine the hooks `serving`, `startup_alive` and
# `show_log_tail`. Progress goes to stderr; stdout carries only the URL.

# Every launcher's installs, data and logs live below this folder, one subfolder per service.
services_home="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}"

log() { echo "[$service_name] $*" >&2; }

fail() {
  log "error: $*"
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the given user when root (for servers that refuse to run as root).
as_user() {
  local user="$1"
  shift
  if is_root; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the recorded pid when that process is alive.
running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

serving() { running_pid >/dev/null && ready; }

startup_alive() { running_pid >/dev/null; }

show_log_tail() { tail -n 40 "$log_file" >&2 2>/dev/null || true; }

# For start: when the recorded server already answers, prints its URL and succeeds.
already_running() {
  serving || return 1
  log "already running on $url"
  echo "$url"
}

# Runs the server under setsid, its output in the log file and holding none of this
# script's pipes, so it outlives the script; records its pid.
spawn_server() {
  setsid nohup "$@" >"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
}

# For start: when the server recorded by an earlier call is still running (maybe still booting),
# waits up to <timeout> seconds (polling every <interval>) for it to answer and prints its URL;
# stops it when it does not answer. Fails when start must go on and start a server.
resume_started() {
  running_pid >/dev/null || return 1
  if poll_ready "$1" "$2"; then
    log "already running on $url"
    echo "$url"
    return 0
  fi
  log "a server is running but does not answer; restarting it"
  stop
  return 1
}

# For start: stops a recorded server that does not answer, then empties <folder>.
reset_server() {
  if running_pid >/dev/null; then
    log "a previous server (pid $(cat "$pid_file")) is not ready; stopping it"
    stop
  fi
  rm -rf "$1"
  mkdir -p "$1"
}

# Polls `ready` every <interval> seconds: returns 0 once it answers, 1 when the server is gone,
# 2 after <timeout> seconds.
poll_ready() {
  local deadline=$((SECONDS + $1)) interval="$2"
  until ready; do
    startup_alive || return 1
    [ "$SECONDS" -lt "$deadline" ] || return 2
    sleep "$interval"
  done
}

# Waits for the server just started; when it exits or is not ready in time, shows its log,
# stops what was started and exits.
wait_ready() {
  local timeout="$1" interval="$2" started=$SECONDS outcome=0
  poll_ready "$timeout" "$interval" || outcome=$?
  case "$outcome" in
    0) log "ready after $((SECONDS - started)) s" ;;
    1)
      show_log_tail
      stop || true
      fail "${server_label:-$service_name} exited during startup"
      ;;
    *)
      show_log_tail
      stop || true
      fail "${server_label:-$service_name} was not ready after $timeout s"
      ;;
  esac
}

# Sends a signal (TERM unless named), then KILL when the process is still there after <grace>
# seconds.
end_process() {
  local pid="$1" grace="$2" signal="${3:-TERM}" waited=0
  kill "-$signal" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge $((grace * 2)) ]; then
      log "pid $pid did not stop after $grace s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
}

# For stop: ends the recorded server within <grace> seconds; a no-op when it is not running.
stop_recorded() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    log "not running"
    return 0
  fi
  log "stopping pid $pid"
  end_process "$pid" "$1"
  rm -f "$pid_file"
}

# For status: prints the URL when the server answers, otherwise exits with <code>.
report_status() {
  if serving; then
    log "running on $url"
    echo "$url"
  else
    log "not running"
    exit "$1"
  fi
}

# As root: creates the unprivileged user <name>, with a home folder, when missing.
ensure_service_user() {
  is_root || return 0
  local user="$1" home
  if ! getent passwd "$user" >/dev/null; then
    log "creating user $user"
    useradd --create-home --shell /usr/sbin/nologin --user-group "$user"
  fi
  home="$(getent passwd "$user" | cut -d: -f6)"
  if [ ! -d "$home" ]; then
    mkdir -p "$home"
    chown "$user:" "$home"
  fi
}

# Prints the JDK folder a Java server runs with: the value of the environment variable named
# <variable> when set, else the JDK of the java on PATH.
jdk_home() {
  local variable="$1" java
  if [ -n "${!variable:-}" ]; then
    printf '%s' "${!variable}"
    return
  fi
  java="$(command -v java || true)"
  [ -n "$java" ] ||
    fail "no java on PATH: install a JDK 17 (apt-get install openjdk-17-jdk-headless) or set $variable"
  dirname "$(dirname "$(readlink -f "$java")")"
}

# Installs Debian packages, waiting for another apt run's lock rather than failing on it, and
# refreshing the package lists only when the first attempt fails.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local apt_get=(apt-get -o DPkg::Lock::Timeout=600 -q)
  if ! "${apt_get[@]}" install -y --no-install-recommends "$@" >&2; then
    "${apt_get[@]}" update >&2
    "${apt_get[@]}" install -y --no-install-recommends "$@" >&2
  fi
}

# Installs the Debian package of each missing command, given as `command:package` pairs
# (e.g. `java:openjdk-17-jre-headless mvn:maven`); without root, says what to install.
ensure_commands() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
  done
  [ "${#missing[@]}" -eq 0 ] && return
  is_root || fail "missing ${missing[*]}; install them (apt-get install ${missing[*]})"
  log "installing ${missing[*]} with apt-get"
  apt_install "${missing[@]}"
}

# A fresh virtualenv at <venv> (from $python, default python3) with `pip install <arguments>`.
install_venv() {
  local venv="$1"
  shift
  rm -rf "$venv"
  "${python:-python3}" -m venv "$venv" >&2 ||
    fail "could not create a virtualenv (on Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
}

launcher_main() {
  case "${1:-}" in
    install | start | stop | status) "$1" ;;
    *)
      echo "usage: bash launcher.sh install|start|stop|status" >&2
      exit 2
      ;;
  esac
}
