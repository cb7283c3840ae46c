# Shared by the benchmark scripts (sourced, not run).

# CPU time of every thread of process $1, in nanoseconds (from /proc/PID/task/*/schedstat).
cpu_ns() {
    total=0
    for stat in /proc/"$1"/task/*/schedstat; do
        read -r run _ < "$stat" && total=$((total + run))
    done
    echo "$total"
}
