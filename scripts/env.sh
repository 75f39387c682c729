# Source me (bash/zsh): `source scripts/env.sh`. Sets up the environment for
# any dotnet process of this repo. Uses no absolute paths of any machine.

# Repo root from this file's own location (BASH_SOURCE in bash, %x in zsh).
_dincluster_root=$(cd "$(dirname "${BASH_SOURCE[0]:-${(%):-%x}}")/.." && pwd)

# The dotnet host links libstdc++ at start, so the newer one that TorchSharp
# needs (built by scripts/native-runtime.sh) must be on LD_LIBRARY_PATH before
# dotnet starts. Only added when present (hosts with a new libstdc++ skip it).
if [ -d "$_dincluster_root/.native/lib" ]; then
  case ":${LD_LIBRARY_PATH:-}:" in
    *":$_dincluster_root/.native/lib:"*) ;;
    *) export LD_LIBRARY_PATH="$_dincluster_root/.native/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
  esac
fi
unset _dincluster_root

export DOTNET_CLI_TELEMETRY_OPTOUT=1   # no telemetry calls
export DOTNET_NOLOGO=1                 # no first-run banner
