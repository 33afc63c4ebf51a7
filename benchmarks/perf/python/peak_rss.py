"""Peak resident memory of this process (VmHWM of /proc/self/status) in MB, as benchmarks/perf/src/peak-rss.ts
reads it for the tfjs side; None where /proc is not available."""


def peak_rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
