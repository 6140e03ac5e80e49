# SPDX-License-Identifier: GPL-2.0
#
# strict.sh: sourced first by every bash script under tests/.
#
# errexit, nounset and pipefail, with an ERR trap that names the script, the
# line and the command: under errexit a failing command otherwise ends the
# script without a word, and the caller only sees that it stopped. set -E
# carries the trap into functions and command substitutions.

set -eEuo pipefail
trap 'echo "${BASH_SOURCE[0]##*/}: line $LINENO: exit $?: $BASH_COMMAND" >&2' ERR
