using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.SiteServers;

/// <summary>A site server the NS knows: created by an admin, registered by the server itself with its token.</summary>
internal sealed class SiteServerRecord
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required SiteServerKind Kind { get; init; }
    public required string TokenHash { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RegisteredAt { get; set; }
    public string? Address { get; set; }
    public IReadOnlyList<string>? HostNames { get; set; }
    public string? Site { get; set; }
    public int MaxAgents { get; set; } = 5000;
    /// <summary>SHA-256 thumbprint of the one certificate in force; a new registration replaces it.</summary>
    public string? Thumbprint { get; set; }

    public SiteServerInfo ToInfo() => new()
    {
        Id = Id,
        Name = Name,
        Kind = Kind,
        Registered = Thumbprint is not null,
        Address = Address,
        HostNames = HostNames,
        Site = Site,
        CreatedAt = CreatedAt,
        RegisteredAt = RegisteredAt,
        CertificateThumbprint = Thumbprint,
    };
}

/// <summary>
/// Every site server (Task Servers and gateways): in memory, persisted in the store (table <c>site_servers</c>). Tokens are kept as
/// SHA-256 hashes only; the token itself is shown once, in the admin's create answer. A site server created or registered here is
/// told to the other nodes sharing the store (<see cref="NodeChangeKind.SiteServer"/>), which read it again (<see cref="Reload"/>).
/// </summary>
internal sealed class SiteServerDirectory
{
    private readonly TcmStore _store;
    private readonly INodeSignal _nodes;
    private readonly ConcurrentDictionary<string, SiteServerRecord> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SiteServerRecord> _byThumbprint = new(StringComparer.Ordinal);

    public SiteServerDirectory(TcmStore store, INodeSignal nodes)
    {
        _store = store;
        _nodes = nodes;
        Reload(null);
    }

    /// <summary>
    /// Reads the site server <paramref name="id"/> (every one when null) from the store again, as another node changed it: a new one is
    /// added, a known one takes the stored registration (its earlier certificate is no longer recognised). Returns those read.
    /// </summary>
    public List<SiteServerRecord> Reload(string? id)
    {
        var rows = _store.Query(
            "SELECT id, name, kind, token_hash, created_at, registered_at, address, host_names, site, max_agents, thumbprint FROM site_servers"
                + (id is null ? "" : " WHERE id=@p0"),
            r => new SiteServerRecord
            {
                Id = r.GetString(0),
                Name = r.GetString(1),
                Kind = ParseKind(r.GetString(2)),
                TokenHash = r.GetString(3),
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
                RegisteredAt = r.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                Address = r.IsDBNull(6) ? null : r.GetString(6),
                HostNames = r.IsDBNull(7) ? null : TcmStore.Deserialize(r.GetString(7), ProtocolJsonContext.Default.IReadOnlyListString),
                Site = r.IsDBNull(8) ? null : r.GetString(8),
                MaxAgents = r.GetInt32(9),
                Thumbprint = r.IsDBNull(10) ? null : r.GetString(10),
            },
            id is null ? [] : [id]);
        var read = new List<SiteServerRecord>(rows.Count);
        foreach (var row in rows)
        {
            if (!_byId.TryGetValue(row.Id, out var known))
            {
                Index(row);
                read.Add(row);
                continue;
            }

            // why: the known record is shared (a Task Server's live state holds it), so it takes the stored registration in place.
            if (known.Thumbprint is { } previous && previous != row.Thumbprint)
            {
                _byThumbprint.TryRemove(previous, out _);
            }

            known.RegisteredAt = row.RegisteredAt;
            known.Address = row.Address;
            known.HostNames = row.HostNames;
            known.Site = row.Site;
            known.MaxAgents = row.MaxAgents;
            known.Thumbprint = row.Thumbprint;
            Index(known);
            read.Add(known);
        }

        return read;
    }

    /// <summary>Every site server, by name.</summary>
    public IReadOnlyList<SiteServerRecord> All => [.. _byId.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Id, StringComparer.Ordinal)];

    public bool TryGet(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SiteServerRecord? record) => _byId.TryGetValue(id, out record);

    /// <summary>The site server whose current certificate has this thumbprint.</summary>
    public bool TryGetByThumbprint(string thumbprint, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SiteServerRecord? record) =>
        _byThumbprint.TryGetValue(thumbprint, out record);

    /// <summary>Creates a site server; returns it and its registration token (only the hash is kept).</summary>
    public async Task<(SiteServerRecord Record, string Token)> CreateAsync(string name, SiteServerKind kind, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var record = new SiteServerRecord
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Name = name,
            Kind = kind,
            TokenHash = HashToken(token),
            CreatedAt = now,
        };
        await _store.Writer.WriteAsync(ctx => ctx.Execute(
            "INSERT INTO site_servers(id, name, kind, token_hash, created_at) VALUES(@p0,@p1,@p2,@p3,@p4)",
            record.Id, record.Name, SiteServerCertificates.KindName(kind), record.TokenHash, now.ToUnixTimeMilliseconds()), cancellationToken).ConfigureAwait(false);
        Index(record);
        _nodes.Changed(new NodeChange(NodeChangeKind.SiteServer, record.Id));
        return (record, token);
    }

    /// <summary>The site server a registration token belongs to, or null.</summary>
    public SiteServerRecord? FindByToken(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var hash = HashToken(token);
        return _byId.Values.FirstOrDefault(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s.TokenHash), Encoding.ASCII.GetBytes(hash)));
    }

    /// <summary>Records a registration: the new certificate replaces any earlier one.</summary>
    public async Task RegisterAsync(SiteServerRecord record, string thumbprint, SiteServerRegisterRequest request, DateTimeOffset now, CancellationToken ct = default)
    {
        var hostNames = TcmStore.Serialize(request.HostNames, ProtocolJsonContext.Default.IReadOnlyListString);
        var maxAgents = request.MaxAgents ?? record.MaxAgents;
        await _store.Writer.WriteAsync(ctx => ctx.Execute(
            "UPDATE site_servers SET registered_at=@p1, address=@p2, host_names=@p3, site=@p4, max_agents=@p5, thumbprint=@p6 WHERE id=@p0",
            record.Id, now.ToUnixTimeMilliseconds(), request.Address, hostNames, request.Site, maxAgents, thumbprint), ct).ConfigureAwait(false);
        if (record.Thumbprint is { } previous)
        {
            _byThumbprint.TryRemove(previous, out _);
        }

        record.RegisteredAt = now;
        record.Address = request.Address;
        record.HostNames = request.HostNames;
        record.Site = request.Site;
        record.MaxAgents = maxAgents;
        record.Thumbprint = thumbprint;
        _byThumbprint[thumbprint] = record;
        _nodes.Changed(new NodeChange(NodeChangeKind.SiteServer, record.Id));
        if (Registered is { } handler)
        {
            await handler(record).ConfigureAwait(false);
        }
    }

    /// <summary>Called after a site server registered (e.g. the Task Server registry recomputes policies).</summary>
    public Func<SiteServerRecord, Task>? Registered { get; set; }

    /// <summary>A new address or capacity reported by the site server itself (e.g. once its listener is bound).</summary>
    public void UpdateAddress(SiteServerRecord record, string? address, int maxAgents)
    {
        if ((address is null || address == record.Address) && maxAgents == record.MaxAgents)
        {
            return;
        }

        record.Address = address ?? record.Address;
        record.MaxAgents = maxAgents;
        _store.Writer.Post(ctx => ctx.Execute("UPDATE site_servers SET address=@p1, max_agents=@p2 WHERE id=@p0", record.Id, record.Address, maxAgents), "site server address");
    }

    private void Index(SiteServerRecord record)
    {
        _byId[record.Id] = record;
        if (record.Thumbprint is { } thumbprint)
        {
            _byThumbprint[thumbprint] = record;
        }
    }

    private static SiteServerKind ParseKind(string text) =>
        Enum.GetValues<SiteServerKind>().FirstOrDefault(k => SiteServerCertificates.KindName(k) == text);

    private static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
