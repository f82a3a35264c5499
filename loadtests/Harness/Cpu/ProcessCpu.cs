namespace Tcm.LoadTests.Harness.Cpu;

/// <summary>
/// The CPU time a process has used, user and system together: from <c>/proc/&lt;pid&gt;/stat</c> on Linux (readable for
/// any process of the same user, so the load generator reads the servers' without their help), from the process object
/// elsewhere. CPU time per operation is the cost figure that a shared, noisy machine does not blur as it blurs latency.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>
    /// The unit of the CPU times in <c>/proc</c> (USER_HZ): fixed at 100 by the kernel's user-space ABI on the
    /// architectures .NET runs on, whatever the kernel's own tick rate.
    /// </summary>
    internal const int ClockTicksPerSecond = 100;

    /// <summary>The CPU time process <paramref name="pid"/> has used so far; null when it is gone or cannot be read.</summary>
    public static TimeSpan? Read(int pid)
    {
        var stat = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat";
        if (File.Exists(stat))
        {
            try
            {
                return ParseStat(File.ReadAllText(stat));
            }
            catch (IOException)
            {
                return null;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.TotalProcessorTime;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// User plus system time from one <c>/proc/&lt;pid&gt;/stat</c> line (fields 14 and 15, in clock ticks); null when the
    /// line is not one. The command name (field 2) is in parentheses and may itself hold spaces and parentheses, so the
    /// fields are counted from the last closing parenthesis.
    /// </summary>
    internal static TimeSpan? ParseStat(string line)
    {
        var end = line.LastIndexOf(')');
        if (end < 0)
        {
            return null;
        }

        // After the name: field 3 (state) is the first, so utime (14) and stime (15) are the 12th and 13th.
        var fields = line[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var system))
        {
            return null;
        }

        return TimeSpan.FromSeconds((user + system) / (double)ClockTicksPerSecond);
    }

    /// <summary>The machine's one-minute load average (<c>/proc/loadavg</c>); null where there is none.</summary>
    public static double? LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            var first = text.Split(' ', 2)[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
