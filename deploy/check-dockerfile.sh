#!/usr/bin/env bash
# check-dockerfile.sh: checks deploy/Dockerfile without Docker (the build machines have none).
#
#   deploy/check-dockerfile.sh [--static] [DOCKERFILE]
#
# It reads the Dockerfile (default: deploy/Dockerfile next to this script) instruction by
# instruction and plays it in a scratch directory that stands for the image's file system:
#   - FROM: the base image must be Debian 12, the release of this machine, so that the package
#     checks below mean something for the image.
#   - WORKDIR: created in the scratch root.
#   - COPY from the build context: every source must exist in the checkout; it is copied into the
#     scratch root (only for the build stage, whose RUN steps use it).
#   - RUN with `apt-get install`: every package must exist for Debian 12 (apt-cache policy shows a
#     candidate). The install itself is not run (this machine has the packages deploy/setup.sh
#     installs); the other commands of that RUN must be apt-get/rm housekeeping.
#   - other RUN steps of the build stage: run with bash in the scratch WORKDIR, so the real
#     cmake configure, build and strip happen against the copied sources (ccache makes this
#     quick after a normal build). --static skips them.
#   - other RUN steps of the runtime stage (user and directory setup): syntax-checked with
#     `bash -n`, and each command they call must exist on this machine; they are not run (they
#     would change this machine's users).
#   - COPY --from=STAGE: every source must exist in that stage's scratch root after its RUN steps.
#   - the runtime stage's packages must provide every shared library that the copied binaries
#     load (ldd, then dpkg -S, against the closure of the runtime packages' dependencies plus
#     Debian's required packages, which debian:12-slim holds).
#
# Prints one line per check and "check-dockerfile: N passed, M failed" at the end; exits 0 only
# when nothing failed. Needs bash, apt-cache, dpkg, ldd and, without --static, the build tools.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"
STATIC=0
DOCKERFILE="$SCRIPT_DIR/Dockerfile"
for arg in "$@"; do
  case "$arg" in
    --static) STATIC=1 ;;
    -h | --help)
      sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "check-dockerfile: unknown option $arg (see --help)" >&2
      exit 2
      ;;
    *) DOCKERFILE="$arg" ;;
  esac
done
[ -f "$DOCKERFILE" ] || {
  echo "check-dockerfile: no Dockerfile at $DOCKERFILE" >&2
  exit 2
}

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/check-dockerfile.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

PASSED=0
FAILED=0
pass() {
  PASSED=$((PASSED + 1))
  echo "ok    $*"
}
fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL  $*"
}

# The Dockerfile as logical instructions: comments dropped, continuation lines joined.
INSTRUCTIONS=()
current=""
while IFS= read -r line || [ -n "$line" ]; do
  [[ "$line" =~ ^[[:space:]]*# ]] && continue
  if [[ "$line" =~ ^(.*)\\[[:space:]]*$ ]]; then
    current+="${BASH_REMATCH[1]} "
    continue
  fi
  current+="$line"
  [[ "$current" =~ ^[[:space:]]*$ ]] || INSTRUCTIONS+=("$current")
  current=""
done <"$DOCKERFILE"
[ -z "$current" ] || INSTRUCTIONS+=("$current")

# Debian's release on this machine must be the image's.
host_release="$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo unknown)"

stage=-1
declare -a STAGE_NAME STAGE_ROOT
workdir="/"
RUNTIME_PACKAGES=()
COPIED_BINARIES=()

stage_root() { echo "$SCRATCH/stage$stage"; }

# The packages named by "apt-get install ... pkg pkg" in a RUN command, one per line.
apt_packages() {
  local cmd="$1" in_install=0 word
  for word in $cmd; do
    if [ "$word" = "&&" ] || [ "$word" = ";" ]; then
      in_install=0
    elif [ "$word" = "install" ]; then
      in_install=1
    elif ((in_install)) && [[ "$word" != -* ]]; then
      echo "$word"
    fi
  done
}

check_package() {
  local candidate
  candidate="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^  Candidate: //p')"
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
    pass "stage $stage: package $1 exists ($candidate)"
  else
    fail "stage $stage: package $1 is not available for Debian $host_release (apt-cache policy $1)"
  fi
}

# Every command of a non-apt RUN of the runtime stage must exist here.
check_commands() {
  local cmd="$1" segment name
  while IFS= read -r segment; do
    name="$(echo "$segment" | awk '{print $1}')"
    [ -z "$name" ] && continue
    if command -v "$name" >/dev/null 2>&1; then
      pass "stage $stage: command $name exists"
    else
      fail "stage $stage: command $name (in: $segment) does not exist on Debian $host_release"
    fi
  done < <(echo "$cmd" | sed 's/&&/\n/g; s/;/\n/g')
}

for instruction in "${INSTRUCTIONS[@]}"; do
  keyword="$(echo "$instruction" | awk '{print toupper($1)}')"
  args="$(echo "$instruction" | sed -E 's/^[[:space:]]*[A-Za-z]+[[:space:]]+//')"
  case "$keyword" in
    FROM)
      stage=$((stage + 1))
      image="$(echo "$args" | awk '{print $1}')"
      STAGE_NAME[$stage]="$(echo "$args" | awk 'toupper($2) == "AS" {print $3}')"
      STAGE_ROOT[$stage]="$(stage_root)"
      mkdir -p "${STAGE_ROOT[$stage]}"
      workdir="/"
      RUNTIME_PACKAGES=()
      COPIED_BINARIES=()
      if [[ "$image" =~ ^debian:12(-slim)?$ ]] && [ "$host_release" = "12" ]; then
        pass "stage $stage: FROM $image matches this machine (Debian $host_release)"
      else
        fail "stage $stage: FROM $image: this check needs a debian:12 base on a Debian 12 machine (here: $host_release)"
      fi
      ;;
    WORKDIR)
      workdir="$args"
      mkdir -p "${STAGE_ROOT[$stage]}$workdir"
      pass "stage $stage: WORKDIR $workdir"
      ;;
    RUN)
      if [[ "$args" == \[* ]]; then
        fail "stage $stage: RUN in JSON form is not supported by this check: $args"
      elif [[ "$args" == *"apt-get install"* ]]; then
        mapfile -t packages < <(apt_packages "$args")
        ((${#packages[@]})) || fail "stage $stage: apt-get install names no package"
        for p in "${packages[@]}"; do check_package "$p"; done
        RUNTIME_PACKAGES=("${packages[@]}")
        # Whatever else this RUN does must be apt housekeeping, which is safe not to run.
        others="$(echo "$args" | sed 's/&&/\n/g' | grep -vE '^[[:space:]]*(apt-get (update|install)|DEBIAN_FRONTEND=noninteractive apt-get install|rm -rf /var/lib/apt/lists/\*)' || true)"
        if [ -n "$others" ]; then
          fail "stage $stage: the apt-get RUN also does something else: $others"
        fi
      elif [ -z "${STAGE_NAME[$stage]}" ]; then
        # The runtime stage: check, do not run.
        if bash -n -c "$args" 2>"$SCRATCH/syntax"; then
          pass "stage $stage: RUN is valid shell"
        else
          fail "stage $stage: RUN is not valid shell: $(cat "$SCRATCH/syntax")"
        fi
        check_commands "$args"
      elif ((STATIC)); then
        pass "stage $stage: RUN skipped (--static): $args"
      else
        dir="${STAGE_ROOT[$stage]}$workdir"
        echo "run   stage $stage in $dir: $args"
        if (cd "$dir" && CCACHE_BASEDIR="$dir" CCACHE_NOHASHDIR=1 \
          CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
          bash -euo pipefail -c "$args") >"$SCRATCH/run.log" 2>&1; then
          pass "stage $stage: RUN succeeded: $args"
        else
          tail -40 "$SCRATCH/run.log"
          fail "stage $stage: RUN failed: $args"
        fi
      fi
      ;;
    COPY)
      read -r -a words <<<"$args"
      from=""
      files=()
      for w in "${words[@]}"; do
        case "$w" in
          --from=*) from="${w#--from=}" ;;
          --chown=* | --chmod=* | --link) ;;
          --*) fail "stage $stage: COPY option $w is not supported by this check" ;;
          *) files+=("$w") ;;
        esac
      done
      dest="${files[-1]}"
      unset 'files[-1]'
      [[ "$dest" == /* ]] || dest="$workdir/$dest"
      if [ -n "$from" ]; then
        src_stage=""
        for i in "${!STAGE_NAME[@]}"; do
          [ "${STAGE_NAME[$i]}" = "$from" ] && src_stage="$i"
        done
        if [ -z "$src_stage" ]; then
          fail "stage $stage: COPY --from=$from names no earlier stage"
          continue
        fi
        for f in "${files[@]}"; do
          if ((STATIC)); then
            pass "stage $stage: COPY --from=$from $f (not built: --static)"
          elif [ -e "${STAGE_ROOT[$src_stage]}$f" ]; then
            pass "stage $stage: COPY --from=$from $f exists after the build"
            COPIED_BINARIES+=("${STAGE_ROOT[$src_stage]}$f")
          else
            fail "stage $stage: COPY --from=$from $f: the build stage did not produce it"
          fi
        done
      else
        for f in "${files[@]}"; do
          if [ -e "$REPO/$f" ]; then
            pass "stage $stage: COPY $f exists in the checkout"
            if [ -n "${STAGE_NAME[$stage]}" ]; then
              mkdir -p "${STAGE_ROOT[$stage]}$dest"
              if [ -d "$REPO/$f" ]; then
                cp -a "$REPO/$f/." "${STAGE_ROOT[$stage]}$dest/"
              else
                cp -a "$REPO/$f" "${STAGE_ROOT[$stage]}$dest/"
              fi
            fi
          else
            fail "stage $stage: COPY $f: no such file in the checkout ($REPO/$f)"
          fi
        done
      fi
      ;;
    USER | VOLUME | EXPOSE | ENTRYPOINT | CMD | ENV | LABEL | ARG)
      pass "stage $stage: $keyword $args"
      ;;
    *)
      fail "stage $stage: instruction $keyword is not supported by this check"
      ;;
  esac
done

# The runtime stage must bring every shared library its binaries load.
if ((${#COPIED_BINARIES[@]})); then
  mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "${RUNTIME_PACKAGES[@]}" 2>/dev/null |
    grep -v '^ ' | sed 's/:.*//' | sort -u)
  mapfile -t required < <(dpkg-query -W -f='${Package} ${Priority}\n' 2>/dev/null |
    awk '$2 == "required" {print $1}')
  have=" ${closure[*]} ${required[*]} "
  for bin in "${COPIED_BINARIES[@]}"; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    while read -r lib; do
      # dpkg knows a library by the path its package installed (/lib or /usr/lib on a merged
      # /usr), so ask for both the path ldd printed and the one it resolves to.
      owner="$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1 || true)"
      [ -n "$owner" ] || owner="$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1 || true)"
      if [ -z "$owner" ]; then
        fail "$(basename "$bin") loads $lib, which no Debian package owns"
      elif [[ "$have" == *" $owner "* ]]; then
        pass "$(basename "$bin") loads $(basename "$lib") from $owner, which the runtime stage has"
      else
        fail "$(basename "$bin") loads $lib from $owner: add $owner to the runtime stage's apt-get install"
      fi
    done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
  done
fi

echo "check-dockerfile: $PASSED passed, $FAILED failed"
((FAILED == 0))
