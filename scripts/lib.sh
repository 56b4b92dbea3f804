# Sourced by the other scripts. torch_source: where the CPU build of torch (pinned in the dev lock) comes from:
# the local wheels this machine's pip is told to find ($PIP_FIND_LINKS, else `pip config get global.find-links`,
# set on this project's machine image), each passed on as --find-links, and in addition the PyTorch CPU index,
# unless a local folder already holds the pinned wheel: uv asks every index for every package, and a machine
# without the network (this project's) cannot reach that one. Neither location is written into a lock.
torch_source() {
  local links link pinned have=""
  links="${PIP_FIND_LINKS:-$(python3 -m pip config get global.find-links 2>/dev/null || true)}"
  pinned="$(awk -F'==' '/^torch==/{sub(/ .*/, "", $2); print $2; exit}' "$(dirname "${BASH_SOURCE[0]}")/../requirements-dev.lock")"
  for link in $links; do
    echo "--find-links $link"
    if [ -n "$pinned" ] && compgen -G "${link#file://}/torch-${pinned}-*.whl" >/dev/null; then
      have=1
    fi
  done
  [ -n "$have" ] || echo "--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match"
}
