using System.Globalization;
using Microsoft.AspNetCore.Http;
using Tcm.Hosting.Listeners;

namespace Tcm.Hosting.Channels;

/// <summary>
/// A channel request's place in <see cref="ServerAdmission.Upgrades"/>: taken before the upgrade, given back at the welcome (or
/// when the channel ends before one), so a storm of upgrades and hellos runs at the rate the server finishes them. A request
/// without a place is answered 503 <c>server-busy</c> with <c>Retry-After</c>.
/// </summary>
public sealed class ChannelAdmission : IDisposable
{
    private readonly AdmissionGate _gate;
    private int _released;

    private ChannelAdmission(AdmissionGate gate) => _gate = gate;

    /// <summary>The <c>Retry-After</c> header.</summary>
    public const string RetryAfterHeader = "Retry-After";

    /// <summary>A place for the channel request of <paramref name="context"/>, or null with the refusal's hint.</summary>
    public static async Task<(ChannelAdmission? Place, TimeSpan RetryAfter)> EnterAsync(HttpContext context, AdmissionGate gate)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(gate);
        var outcome = await gate.EnterAsync(context.RequestAborted).ConfigureAwait(false);
        return outcome == AdmissionOutcome.Admitted ? (new ChannelAdmission(gate), TimeSpan.Zero) : (null, gate.RetryAfter);
    }

    /// <summary>The refusal's detail: when to come back.</summary>
    public static string BusyDetail(TimeSpan retryAfter) =>
        string.Create(CultureInfo.InvariantCulture, $"the server is taking channels at the rate it can finish them; try again in {retryAfter.TotalSeconds:0} s");

    /// <summary>A refusal's <paramref name="headers"/> with <c>Retry-After</c> added.</summary>
    public static Dictionary<string, string> WithRetryAfter(IReadOnlyDictionary<string, string>? headers, TimeSpan retryAfter) =>
        new(headers ?? new Dictionary<string, string>()) { [RetryAfterHeader] = RetryAfterValue(retryAfter) };

    /// <summary><paramref name="retryAfter"/> as a <c>Retry-After</c> value: whole seconds, at least 1.</summary>
    public static string RetryAfterValue(TimeSpan retryAfter) =>
        Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>The channel was welcomed: its place goes to the next request.</summary>
    public void Welcomed() => Release(finished: true);

    /// <summary>The channel ended (welcomed or not): gives the place back if it was not already.</summary>
    public void Dispose() => Release(finished: false);

    private void Release(bool finished)
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _gate.Exit(finished);
        }
    }
}
