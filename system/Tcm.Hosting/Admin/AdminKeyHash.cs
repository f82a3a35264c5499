using System.Security.Cryptography;
using System.Text;

namespace Tcm.Hosting.Admin;

/// <summary>
/// How an admin key is kept: PBKDF2 with HMAC-SHA-256 over the key with its own random salt, so a copy of the store does not
/// give the keys away and a guess costs <see cref="Iterations"/> rounds. Checking is deliberately slow; a server checks a key
/// once and keeps the verdict (the Notification Server's key ring).
/// </summary>
public sealed record AdminKeyHash(byte[] Salt, byte[] Hash, int Iterations)
{
    /// <summary>
    /// Rounds of a new hash. Why 100,000: a key is 32 random bytes, so the rounds do not protect a weak secret; they make
    /// each guess against a stolen store cost some milliseconds, and a server pays them once per key thanks to its cached verdicts.
    /// </summary>
    public const int DefaultIterations = 100_000;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>The hash of <paramref name="key"/> with a new salt.</summary>
    public static AdminKeyHash Create(string key, int iterations = DefaultIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new AdminKeyHash(salt, Derive(key, salt, iterations), iterations);
    }

    /// <summary>Whether <paramref name="presented"/> is the key this hash was made from (compared in constant time).</summary>
    public bool Matches(string? presented) =>
        !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(Hash, Derive(presented, Salt, Iterations));

    private static byte[] Derive(string key, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(key), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
}
