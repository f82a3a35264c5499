using System.Collections.Concurrent;
using System.Security.Cryptography;
using Tcm.Hosting.Admin;

namespace Tcm.NotificationServer.Admin;

/// <summary>What a request's console session cookie says.</summary>
internal enum ConsoleSessionCheck
{
    /// <summary>No cookie, or an unknown or expired session.</summary>
    None,
    /// <summary>A live session; the request may proceed.</summary>
    Valid,
    /// <summary>A live session, but a state-changing request without the console's custom header (CSRF guard).</summary>
    MissingHeader,
}

/// <summary>
/// The admin console's sessions: a random token in a <c>__Host-</c> cookie (Secure, HttpOnly, SameSite=Strict, path <c>/</c>),
/// kept in memory by its SHA-256 only, with the caller (key name and role) it was signed in as, expiring after <see cref="IdleTimeout"/> without use and <see cref="Lifetime"/> in all.
/// A restart of the server logs every console out. State-changing requests must also carry <see cref="HeaderName"/>, which a
/// cross-site form cannot send and a cross-site script cannot add without a CORS pre-flight the server never grants.
/// </summary>
internal sealed class ConsoleSessions(TimeProvider time)
{
    /// <summary>The session cookie.</summary>
    public const string CookieName = "__Host-tcm-console";

    /// <summary>The custom header the console sends on every request; required on state-changing ones.</summary>
    public const string HeaderName = "X-Tcm-Console";

    /// <summary>A session unused this long ends.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(8);

    /// <summary>A session ends this long after login, used or not.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private const int SweepThreshold = 256;
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>Live sessions (for tests and diagnostics).</summary>
    public int Count => _sessions.Count;

    /// <summary>Starts a session for <paramref name="caller"/> and returns its token (the cookie's value).</summary>
    public string Create(AdminCaller caller)
    {
        var now = time.GetUtcNow();
        if (_sessions.Count >= SweepThreshold)
        {
            Sweep(now);
        }

        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        _sessions[Key(token)] = new Session(now, caller);
        return token;
    }

    /// <summary>Ends the session of this token, if any.</summary>
    public void Revoke(string? token)
    {
        if (!string.IsNullOrEmpty(token))
        {
            _sessions.TryRemove(Key(token), out _);
        }
    }

    /// <summary>Checks the request's session cookie, and for state-changing methods the console header.</summary>
    public ConsoleSessionCheck Check(HttpContext context) => Check(context, out _);

    /// <summary>As <see cref="Check(HttpContext)"/>, with the caller the session was signed in as (when it is live).</summary>
    public ConsoleSessionCheck Check(HttpContext context, out AdminCaller? caller)
    {
        caller = null;
        var token = context.Request.Cookies[CookieName];
        if (string.IsNullOrEmpty(token) || token.Length > 64 || !_sessions.TryGetValue(Key(token), out var session))
        {
            return ConsoleSessionCheck.None;
        }

        var now = time.GetUtcNow();
        if (session.IsExpired(now))
        {
            _sessions.TryRemove(Key(token), out _);
            return ConsoleSessionCheck.None;
        }

        session.Touch(now);
        caller = session.Caller;
        var method = context.Request.Method;
        var safe = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);
        return safe || context.Request.Headers.ContainsKey(HeaderName) ? ConsoleSessionCheck.Valid : ConsoleSessionCheck.MissingHeader;
    }

    /// <summary>Sets the session cookie on the response.</summary>
    public static void SetCookie(HttpResponse response, string token) =>
        response.Cookies.Append(CookieName, token, new CookieOptions
        {
            Secure = true,
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            IsEssential = true,
        });

    /// <summary>Clears the session cookie.</summary>
    public static void ClearCookie(HttpResponse response) =>
        response.Cookies.Delete(CookieName, new CookieOptions { Secure = true, HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, session) in _sessions)
        {
            if (session.IsExpired(now))
            {
                _sessions.TryRemove(key, out _);
            }
        }
    }

    private static string Key(string token) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed class Session(DateTimeOffset createdAt, AdminCaller caller)
    {
        public AdminCaller Caller { get; } = caller;

        private readonly long _createdAt = createdAt.UtcTicks;
        private long _lastSeen = createdAt.UtcTicks;

        public bool IsExpired(DateTimeOffset now) =>
            now.UtcTicks - Volatile.Read(ref _lastSeen) > IdleTimeout.Ticks || now.UtcTicks - _createdAt > Lifetime.Ticks;

        public void Touch(DateTimeOffset now) => Volatile.Write(ref _lastSeen, now.UtcTicks);
    }
}
