namespace Tcm.Lab;

/// <summary>What an <see cref="InProcessLab"/> runs beside its Notification Server (<c>ns</c>, always).</summary>
public sealed record LabOptions
{
    /// <summary>Whether TCM communication is on when the Notification Server first runs. Default: true.</summary>
    public bool Tcm { get; init; } = true;

    /// <summary>How many Task Servers to run (<c>ts1</c>, <c>ts2</c>, ...); 0 or more. Default: 1.</summary>
    public int TaskServers { get; init; } = 1;

    /// <summary>Whether to run a CEM Internet Gateway (<c>gateway</c>) in front of every server and the package server. Default: true.</summary>
    public bool Gateway { get; init; } = true;
}
