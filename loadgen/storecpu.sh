# storecpu.sh, sourced by the bench scripts: storecpu prints the CPU that
# PostgreSQL's and Redis's processes have used, in clock ticks (divide by
# `getconf CLK_TCK`), read from /proc.
storecpu() {
  local t=0 f p
  for p in $(pgrep -x postgres) $(pgrep -x redis-server); do
    # A backend may exit between pgrep and the read.
    { read -r -a f < "/proc/$p/stat"; } 2>/dev/null && t=$((t + f[13] + f[14])) || true
  done
  echo "$t"
}
