using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;

namespace Tcm.Hosting.Certificates;

/// <summary>
/// Verdicts about certificates (or admin keys), cached by the subject's SHA-256 hash so a connect storm does not build a chain per
/// handshake; emptied when it holds <c>capacity</c> entries (the verdicts are cheap to build again, and an attacker cannot grow it).
/// </summary>
public sealed class VerdictCache<TVerdict>(int capacity)
{
    private readonly ConcurrentDictionary<string, TVerdict> _verdicts = new(StringComparer.Ordinal);

    /// <summary>Verdicts held now.</summary>
    public int Count => _verdicts.Count;

    /// <summary>Forgets every verdict (what they were built from has changed).</summary>
    public void Clear() => _verdicts.Clear();

    /// <summary>The cached verdict about <paramref name="certificate"/>, or <paramref name="build"/>'s, which is then cached.</summary>
    public TVerdict Get(X509Certificate2 certificate, Func<X509Certificate2, TVerdict> build) => Get(CertificateTrust.Hash(certificate), certificate, build);

    /// <summary>As <see cref="Get(X509Certificate2, Func{X509Certificate2, TVerdict})"/>, with the hash already known.</summary>
    public TVerdict Get(string hash, X509Certificate2 certificate, Func<X509Certificate2, TVerdict> build) => Get<X509Certificate2>(hash, certificate, build);

    /// <summary>The cached verdict under <paramref name="hash"/> (a hash of <paramref name="subject"/>), or <paramref name="build"/>'s, which is then cached.</summary>
    public TVerdict Get<TSubject>(string hash, TSubject subject, Func<TSubject, TVerdict> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        if (_verdicts.TryGetValue(hash, out var verdict))
        {
            return verdict;
        }

        verdict = build(subject);
        if (_verdicts.Count >= capacity)
        {
            _verdicts.Clear();
        }

        _verdicts[hash] = verdict;
        return verdict;
    }
}
