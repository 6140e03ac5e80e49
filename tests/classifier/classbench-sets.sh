#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# classbench-sets.sh: the ClassBench sets, one a line, as classbench takes
# them (the path without .rules.xz), smallest first. They are looked for in
# CLASSBENCH_DIR, then in ../shared/classbench beside the repository, then in
# /work/shared/classbench; if none has them, says so and fails.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for dir in "${CLASSBENCH_DIR:-}" "$repo/../shared/classbench" /work/shared/classbench; do
	if [[ -n $dir && -d $dir ]] && compgen -G "$dir/*.rules.xz" >/dev/null; then
		find "$dir" -name '*.rules.xz' | sed 's/\.rules\.xz$//' | sort -V
		exit 0
	fi
done
echo "classbench-sets.sh: no ClassBench sets (*.rules.xz) in \$CLASSBENCH_DIR, $repo/../shared/classbench or /work/shared/classbench" >&2
exit 1
