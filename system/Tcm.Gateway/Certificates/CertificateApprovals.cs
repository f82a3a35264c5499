using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tcm.Gateway.Diagnostics;
using Tcm.Gateway.Identity;
using Tcm.Hosting.Data;

namespace Tcm.Gateway.Certificates;

/// <summary>
/// Certificates held for approval (in memory, at most <see cref="MaxPending"/>), and the administrator's decisions
/// (approved, blocked; persisted in <c>&lt;data&gt;/certificates.json</c>), by SHA-256 thumbprint.
/// </summary>
internal sealed partial class CertificateApprovals
{
    internal const string FileName = "certificates.json";
    internal const int MaxPending = 10_000;

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CertificateEntry> _pending = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, CertificateEntry> _approved;
    private readonly ConcurrentDictionary<string, CertificateEntry> _blocked;
    private readonly Lock _saveLock = new();

    public CertificateApprovals(string dataDirectory, TimeProvider time, ILogger<CertificateApprovals> logger)
    {
        _path = Path.Combine(dataDirectory, FileName);
        _time = time;
        _logger = logger;
        var saved = File.Exists(_path)
            ? JsonSerializer.Deserialize(File.ReadAllText(_path), GatewayJsonContext.Default.CertificateDecisions) ?? new CertificateDecisions()
            : new CertificateDecisions();
        _approved = new(saved.Approved.Select(e => KeyValuePair.Create(e.Thumbprint, e)), StringComparer.OrdinalIgnoreCase);
        _blocked = new(saved.Blocked.Select(e => KeyValuePair.Create(e.Thumbprint, e)), StringComparer.OrdinalIgnoreCase);
    }

    public int HeldCount => _pending.Count;

    public int ApprovedCount => _approved.Count;

    public int BlockedCount => _blocked.Count;

    public bool IsApproved(string thumbprint) => _approved.ContainsKey(thumbprint);

    public bool IsBlocked(string thumbprint) => _blocked.ContainsKey(thumbprint);

    /// <summary>Raised when a certificate is first held and after a decision (the link to the NS reports then); handlers must be quick.</summary>
    public event Action? Changed;

    /// <summary>The held certificates, oldest first, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<CertificateEntry> Held(int max) => [.. _pending.Values.OrderBy(e => e.FirstSeen).Take(max)];

    /// <summary>Records an attempt with a held certificate; returns false when the pending list is full (the attempt is refused all the same).</summary>
    public bool Hold(string thumbprint, X509Certificate2 certificate)
    {
        var now = _time.GetUtcNow();
        if (_pending.TryGetValue(thumbprint, out var existing))
        {
            _pending[thumbprint] = existing with { LastSeen = now, Attempts = existing.Attempts + 1 };
            return true;
        }

        if (_pending.Count >= MaxPending)
        {
            return false;
        }

        _pending[thumbprint] = new CertificateEntry { Thumbprint = thumbprint, Subject = certificate.Subject, Issuer = certificate.Issuer, FirstSeen = now, LastSeen = now, Attempts = 1 };
        Log.Held(_logger, thumbprint, certificate.Subject, certificate.Issuer);
        Changed?.Invoke();
        return true;
    }

    /// <summary>Approves a held (or any) certificate; false when it is unknown to the gateway.</summary>
    public bool Approve(string thumbprint) => Decide(thumbprint, _approved, _blocked, "approved");

    /// <summary>Blocks a certificate: held, approved, or one the gateway has not seen (it is then refused when it comes).</summary>
    public bool Block(string thumbprint) => Decide(thumbprint, _blocked, _approved, "blocked", allowUnseen: true);

    public CertificateList List() => new()
    {
        Held = [.. _pending.Values.OrderBy(e => e.FirstSeen)],
        Approved = [.. _approved.Values.OrderBy(e => e.Thumbprint, StringComparer.Ordinal)],
        Blocked = [.. _blocked.Values.OrderBy(e => e.Thumbprint, StringComparer.Ordinal)],
    };

    private bool Decide(string thumbprint, ConcurrentDictionary<string, CertificateEntry> into, ConcurrentDictionary<string, CertificateEntry> outOf, string decision, bool allowUnseen = false)
    {
        thumbprint = thumbprint.Trim().ToUpperInvariant();
        var now = _time.GetUtcNow();
        _pending.TryRemove(thumbprint, out var held);
        outOf.TryRemove(thumbprint, out var previous);
        var entry = held ?? previous;
        if (entry is null && !allowUnseen && !into.ContainsKey(thumbprint))
        {
            return false;
        }

        into[thumbprint] = (entry ?? new CertificateEntry { Thumbprint = thumbprint, FirstSeen = now, LastSeen = now }) with { DecidedAt = now };
        Save();
        Log.Decided(_logger, thumbprint, decision);
        Changed?.Invoke();
        return true;
    }

    private void Save()
    {
        lock (_saveLock)
        {
            var decisions = new CertificateDecisions { Approved = [.. _approved.Values], Blocked = [.. _blocked.Values] };
            DataFolder.WritePrivateFile(_path, JsonSerializer.SerializeToUtf8Bytes(decisions, GatewayJsonContext.Default.CertificateDecisions));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 620, Level = LogLevel.Warning, Message = "Holding an unknown client certificate {Thumbprint} ({Subject}, issued by {Issuer}) until an administrator approves or blocks it")]
        public static partial void Held(ILogger logger, string thumbprint, string subject, string issuer);

        [LoggerMessage(EventId = 621, Level = LogLevel.Information, Message = "Client certificate {Thumbprint} {Decision} by an administrator")]
        public static partial void Decided(ILogger logger, string thumbprint, string decision);
    }
}

/// <summary>A certificate held, approved or blocked.</summary>
public sealed record CertificateEntry
{
    /// <summary>SHA-256 thumbprint, upper-case hex.</summary>
    public required string Thumbprint { get; init; }
    public string? Subject { get; init; }
    public string? Issuer { get; init; }
    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset LastSeen { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
}

/// <summary>The administrator's decisions as persisted.</summary>
public sealed record CertificateDecisions
{
    public List<CertificateEntry> Approved { get; set; } = [];
    public List<CertificateEntry> Blocked { get; set; } = [];
}

/// <summary><c>GET /gateway/admin/certificates</c>.</summary>
public sealed record CertificateList
{
    public List<CertificateEntry> Held { get; set; } = [];
    public List<CertificateEntry> Approved { get; set; } = [];
    public List<CertificateEntry> Blocked { get; set; } = [];
}
