# Sourced by the other scripts. torch_source: where the CPU build of torch (2.13.0+cpu, pinned in the dev lock)
# comes from: where this machine's pip is configured to find local wheels (`pip config get global.find-links`,
# set on this project's machine image), else the PyTorch CPU index. Neither location is written into a lock.
torch_source() {
  local links
  links="$(python3 -m pip config get global.find-links 2>/dev/null || true)"
  if [ -n "$links" ]; then
    echo "--find-links $links"
  else
    echo "--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match"
  fi
}
