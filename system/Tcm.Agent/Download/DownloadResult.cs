using Tcm.Protocol;

namespace Tcm.Agent;

/// <summary>The outcome of <see cref="TcmAgent.DownloadPackageAsync"/>.</summary>
public sealed record DownloadResult
{
    /// <summary>The package's id.</summary>
    public required string PackageId { get; init; }

    /// <summary>Whether a codebase delivered the package.</summary>
    public bool Succeeded { get; init; }

    /// <summary>The codebase that delivered it; null when none did.</summary>
    public Codebase? Codebase { get; init; }

    /// <summary>Whether it came through the CEM gateway's relay.</summary>
    public bool ThroughGateway { get; init; }

    /// <summary>Why that codebase was used (its nearness to the agent's site, or the CEM preference); null when none delivered.</summary>
    public string? Reason { get; init; }

    /// <summary>The package's size as received.</summary>
    public long Bytes { get; init; }

    /// <summary>SHA-256 of the content (hex, lower case).</summary>
    public string? Sha256 { get; init; }

    /// <summary>The routing mode the download followed (Direct or CEM).</summary>
    public Protocol.Admin.ConnectionMode Mode { get; init; }

    /// <summary>Every codebase not used or failed, and why, in order.</summary>
    public IReadOnlyList<string> Notes { get; set; } = [];
}
