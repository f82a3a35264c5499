using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Tcm.Hosting.Admin;
using Tcm.Hosting.Certificates;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Admin;

/// <summary>Why a name cannot be a new key's: <see cref="Conflict"/> when another key has it.</summary>
internal sealed record KeyNameProblem(string Detail, bool Conflict);

/// <summary>What revoking a key came to.</summary>
internal enum KeyRevocation
{
    /// <summary>Revoked now; calls with it are refused from this moment.</summary>
    Revoked,
    /// <summary>No key has that id or name.</summary>
    NotFound,
    /// <summary>The key in <c>admin.key</c>: it is replaced in the data folder, not revoked here.</summary>
    BuiltIn,
    /// <summary>Revoked before.</summary>
    AlreadyRevoked,
}

/// <summary>
/// The Notification Server's admin keys: the one in <c>admin.key</c> (the first administrator, <see cref="AdminKey"/>) and those an
/// administrator adds with a role (<c>tcm ns keys add</c>). A key is <c>tcm_{id}_{secret}</c>; the store keeps its id, name, role
/// and a PBKDF2 hash of it (<see cref="AdminKeyHash"/>), never the key. Checking a hash is slow on purpose, so each verdict is
/// cached by the presented key's SHA-256 and a key pays the hash once; a revoked key is refused at once all the same, because a
/// cached verdict counts only while its key is active. Keys are kept in memory: a key added or revoked is told to the other nodes
/// sharing the store (<see cref="NodeChangeKind.AdminKeys"/>), which read them again (<see cref="Reload"/>).
/// </summary>
internal sealed class AdminKeyRing : IAdminKeyRing
{
    private const string Prefix = "tcm_";
    private const int IdLength = 12;
    private const int MaxName = 64;

    private readonly AdminKey _builtIn;
    private readonly TcmStore _store;
    private readonly TimeProvider _time;
    private readonly INodeSignal _nodes;
    private readonly ConcurrentDictionary<string, StoredKey> _keys = new(StringComparer.Ordinal);
    private readonly VerdictCache<AdminCaller?> _verdicts = new(capacity: 1024);
    private readonly SemaphoreSlim _changeGate = new(1, 1);
    private long _hashChecks;

    public AdminKeyRing(AdminKey builtIn, TcmStore store, TimeProvider time, INodeSignal nodes)
    {
        _builtIn = builtIn;
        _store = store;
        _time = time;
        _nodes = nodes;
        Reload();
    }

    /// <summary>Reads every key from the store again (another node added or revoked one); a key revoked there is refused here from now on.</summary>
    public void Reload()
    {
        var revoked = false;
        foreach (var key in _store.Query(
            "SELECT id, name, role, salt, hash, iterations, created_at, created_by, revoked_at, revoked_by FROM admin_keys",
            static r => new StoredKey(
                r.GetString(0), r.GetString(1), AuditTrail.ParseRole(r.GetString(2)), new AdminKeyHash((byte[])r.GetValue(3), (byte[])r.GetValue(4), r.GetInt32(5)),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)), r.GetString(7),
                r.IsDBNull(8) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8)), r.IsDBNull(9) ? null : r.GetString(9))))
        {
            revoked |= key.RevokedAt is not null && _keys.TryGetValue(key.Id, out var known) && known.RevokedAt is null;
            _keys[key.Id] = key;
        }

        if (revoked)
        {
            _verdicts.Clear();
        }
    }

    /// <inheritdoc/>
    public AdminCaller? Identify(string? presentedKey)
    {
        if (string.IsNullOrEmpty(presentedKey) || presentedKey.Length > 256)
        {
            return null;
        }

        if (_builtIn.Identify(presentedKey) is { } builtIn)
        {
            return builtIn;
        }

        if (!TryParse(presentedKey, out var id) || !_keys.TryGetValue(id, out var stored) || stored.RevokedAt is not null)
        {
            return null;
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey)));
        var caller = _verdicts.Get(hash, (Key: stored, Presented: presentedKey), Check);
        return caller is not null && IsActive(caller.KeyId) ? caller : null;
    }

    /// <summary>How many presented keys were checked against a stored hash (each costs <see cref="AdminKeyHash.DefaultIterations"/> rounds).</summary>
    public long HashChecks => Interlocked.Read(ref _hashChecks);

    /// <summary>Whether the key with this id may still be used (console sessions ask on every call).</summary>
    public bool IsActive(string keyId) =>
        keyId == AdminKey.BuiltInName || (_keys.TryGetValue(keyId, out var key) && key.RevokedAt is null);

    /// <summary>Every key, the built-in one first, then by name; revoked ones too, with when and by whom.</summary>
    public IReadOnlyList<AdminKeyInfo> List() =>
    [
        new AdminKeyInfo { Id = AdminKey.BuiltInName, Name = AdminKey.BuiltInName, Role = AdminRole.Administrator, BuiltIn = true },
        .. _keys.Values.OrderBy(k => k.Name, StringComparer.OrdinalIgnoreCase).Select(k => k.Info),
    ];

    /// <summary>What is wrong with <paramref name="name"/> as a new key's name (a conflict: another key has it), or null.</summary>
    public KeyNameProblem? NameProblem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxName || name.Any(char.IsControl))
        {
            return new($"name: 1 to {MaxName} characters, no control characters (it names the key in the audit trail)", Conflict: false);
        }

        name = name.Trim();
        if (string.Equals(name, AdminKey.BuiltInName, StringComparison.OrdinalIgnoreCase))
        {
            return new($"name: '{AdminKey.BuiltInName}' is the key in the data folder's admin.key", Conflict: true);
        }

        return _keys.Values.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase)) is { } existing
            ? new(existing.RevokedAt is null
                ? $"name: a key named '{existing.Name}' exists already"
                : $"name: a key named '{existing.Name}' was revoked; names are not reused, so the audit trail names one key each", Conflict: true)
            : null;
    }

    /// <summary>Adds a key named <paramref name="name"/> with <paramref name="role"/>; the answer holds the key, which is shown only this once.</summary>
    public async Task<(AdminKeyInfo? Info, string? Key, KeyNameProblem? Problem)> AddAsync(string name, AdminRole role, AdminCaller by, CancellationToken ct)
    {
        await _changeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (NameProblem(name) is { } problem)
            {
                return (null, null, problem);
            }

            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
            var key = $"{Prefix}{id}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
            var stored = new StoredKey(id, name.Trim(), role, AdminKeyHash.Create(key), _time.GetUtcNow(), by.Name, null, null);
            await _store.Writer.WriteAsync(ctx => ctx.Execute(
                "INSERT INTO admin_keys(id, name, role, salt, hash, iterations, created_at, created_by) VALUES(@p0,@p1,@p2,@p3,@p4,@p5,@p6,@p7)",
                stored.Id, stored.Name, AuditTrail.RoleName(role), stored.Hash.Salt, stored.Hash.Hash, stored.Hash.Iterations,
                stored.CreatedAt.ToUnixTimeMilliseconds(), stored.CreatedBy), ct).ConfigureAwait(false);
            _keys[id] = stored;
            _nodes.Changed(new NodeChange(NodeChangeKind.AdminKeys));
            return (stored.Info, key, null);
        }
        finally
        {
            _changeGate.Release();
        }
    }

    /// <summary>Revokes the key with this id or name; <c>Before</c> is the key as it was.</summary>
    public async Task<(KeyRevocation Outcome, AdminKeyInfo? Before, AdminKeyInfo? After)> RevokeAsync(string idOrName, AdminCaller by, CancellationToken ct)
    {
        if (string.Equals(idOrName, AdminKey.BuiltInName, StringComparison.OrdinalIgnoreCase))
        {
            return (KeyRevocation.BuiltIn, null, null);
        }

        await _changeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var key = _keys.TryGetValue(idOrName, out var byId) ? byId
                : _keys.Values.FirstOrDefault(k => string.Equals(k.Name, idOrName, StringComparison.OrdinalIgnoreCase));
            if (key is null)
            {
                return (KeyRevocation.NotFound, null, null);
            }

            if (key.RevokedAt is not null)
            {
                return (KeyRevocation.AlreadyRevoked, key.Info, null);
            }

            var revoked = key with { RevokedAt = _time.GetUtcNow(), RevokedBy = by.Name };
            await _store.Writer.WriteAsync(ctx => ctx.Execute(
                "UPDATE admin_keys SET revoked_at=@p1, revoked_by=@p2 WHERE id=@p0", key.Id, revoked.RevokedAt!.Value.ToUnixTimeMilliseconds(), by.Name), ct).ConfigureAwait(false);
            _keys[key.Id] = revoked;
            _verdicts.Clear();
            _nodes.Changed(new NodeChange(NodeChangeKind.AdminKeys));
            return (KeyRevocation.Revoked, key.Info, revoked.Info);
        }
        finally
        {
            _changeGate.Release();
        }
    }

    private AdminCaller? Check((StoredKey Key, string Presented) subject)
    {
        Interlocked.Increment(ref _hashChecks);
        return subject.Key.Hash.Matches(subject.Presented) ? subject.Key.Caller : null;
    }

    private static bool TryParse(string presented, out string id)
    {
        id = "";
        if (presented.Length < Prefix.Length + IdLength + 2 || !presented.StartsWith(Prefix, StringComparison.Ordinal) || presented[Prefix.Length + IdLength] != '_')
        {
            return false;
        }

        id = presented.Substring(Prefix.Length, IdLength);
        return true;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed record StoredKey(
        string Id, string Name, AdminRole Role, AdminKeyHash Hash, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt, string? RevokedBy)
    {
        public AdminCaller Caller { get; } = new(Name, Role, Id);

        public AdminKeyInfo Info => new()
        {
            Id = Id, Name = Name, Role = Role, CreatedAt = CreatedAt, CreatedBy = CreatedBy, RevokedAt = RevokedAt, RevokedBy = RevokedBy,
        };
    }
}
