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
        // After the name: field 3 (state) is the first, so utime (14) and stime (15) are the 12th and 13th.
        return StatFields(line) is { Length: >= 13 } fields && TryTicks(fields, 11, 12, out var ticks)
            ? TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond)
            : null;
    }

    /// <summary>
    /// The CPU time of <paramref name="rootPid"/> and every process below it (PostgreSQL's postmaster and its backends), with
    /// what its children that have ended used (the root's fields 16 and 17: a reaped child's time moves there, so the sum
    /// never drops when a backend exits); null when the root is gone or this is not Linux.
    /// </summary>
    public static TimeSpan? ReadTree(int rootPid)
    {
        if (ReadStatFields(rootPid) is not { Length: >= 15 } root || !TryTicks(root, 11, 12, out var own) || !TryTicks(root, 13, 14, out var reaped))
        {
            return null;
        }

        var parents = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != rootPid
                && ReadStatFields(pid) is { Length: >= 13 } fields
                && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent)
                && TryTicks(fields, 11, 12, out var ticks))
            {
                parents[pid] = (parent, ticks);
            }
        }

        var total = own + reaped;
        foreach (var (pid, (_, ticks)) in parents)
        {
            // A process belongs to the tree when its line of parents reaches the root (at most as many steps as there are processes).
            var ancestor = pid;
            for (var steps = 0; steps < parents.Count && parents.TryGetValue(ancestor, out var up); steps++)
            {
                if (up.Parent == rootPid)
                {
                    total += ticks;
                    break;
                }

                ancestor = up.Parent;
            }
        }

        return TimeSpan.FromSeconds(total / (double)ClockTicksPerSecond);
    }

    /// <summary>The parent of process <paramref name="pid"/> (field 4 of its stat line); null when it cannot be read.</summary>
    public static int? ParentOf(int pid) =>
        ReadStatFields(pid) is { Length: >= 2 } fields && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent) ? parent : null;

    /// <summary>The fields of a stat line after the command name: field 3 (state) first.</summary>
    internal static string[]? StatFields(string line)
    {
        var end = line.LastIndexOf(')');
        return end < 0 ? null : line[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string[]? ReadStatFields(int pid)
    {
        try
        {
            return StatFields(File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool TryTicks(string[] fields, int first, int second, out long ticks)
    {
        ticks = 0;
        if (!long.TryParse(fields[first], NumberStyles.None, CultureInfo.InvariantCulture, out var a)
            || !long.TryParse(fields[second], NumberStyles.None, CultureInfo.InvariantCulture, out var b))
        {
            return false;
        }

        ticks = a + b;
        return true;
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
