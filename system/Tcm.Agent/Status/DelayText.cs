namespace Tcm.Agent.Status;

/// <summary>How the agent writes a delay in its log lines and its Network Status ("800 ms", "1.5 s", "2.5 min").</summary>
internal static class DelayText
{
    public static string Format(TimeSpan delay) =>
        delay < TimeSpan.FromSeconds(1) ? $"{delay.TotalMilliseconds:0} ms"
        : delay < TimeSpan.FromMinutes(2) ? $"{delay.TotalSeconds:0.#} s"
        : $"{delay.TotalMinutes:0.#} min";
}
