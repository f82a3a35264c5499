namespace Tcm.LoadTests.Variants;

/// <summary>
/// A target that can say, after the run, what became of every fan-out it made: complete (every target's result stored),
/// complete only after the fan-out's timeout (late: in no latency figure, but not lost), results missing or stored twice.
/// A fan-out failed in the run's figures is either late or lost; this tells the two apart.
/// </summary>
internal interface IFanoutAudit
{
    /// <summary>Reads every fan-out made through this target, waiting up to <paramref name="grace"/> for results still on their way.</summary>
    Task<FanoutAudit> AuditAsync(TimeSpan grace, CancellationToken cancellationToken);
}

/// <summary>What became of a target's fan-outs (see <see cref="IFanoutAudit"/>).</summary>
internal sealed record FanoutAudit(int FanOuts, int Complete, int Late, int ResultsMissing, int ResultsDuplicated);
