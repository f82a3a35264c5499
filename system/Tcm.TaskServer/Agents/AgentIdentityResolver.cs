using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Tcm.Protocol;
using Tcm.TaskServer.Identity;

namespace Tcm.TaskServer.Agents;

/// <summary>
/// Who the agent behind a request is: the TLS client certificate must chain to the NS CA, carry the clientAuth EKU and name
/// <c>CN=&lt;agent id&gt;</c>. This is the single place the Task Server identifies agents: a request relayed by the CEM gateway (its
/// site-server certificate plus <see cref="SiteServerPaths.ForwardedAgentCertificateHeader"/>) is resolved here too, once the gateway
/// work plugs in. Verdicts are cached by certificate hash, so a connect storm does not rebuild chains.
/// </summary>
internal sealed class AgentIdentityResolver(TaskServerIdentity identity, TimeProvider time)
{
    private const int MaxCached = 100_000;
    private static readonly Oid ClientAuthOid = new("1.3.6.1.5.5.7.3.2", "Client Authentication");
    private readonly ConcurrentDictionary<string, Verdict> _cache = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, string?> _gateways = new(StringComparer.Ordinal);

    /// <summary>
    /// The agent id of the request, or the refusal (401 <c>bad-certificate</c>). A request carrying
    /// <see cref="SiteServerPaths.ForwardedAgentCertificateHeader"/> is the agent's only when its TLS client certificate is a gateway
    /// site-server certificate (<c>OU=gateway</c>, clientAuth) from the NS CA; the forwarded certificate is then validated like a
    /// direct one. From anyone else the header is refused.
    /// </summary>
    public AgentIdentity Resolve(HttpContext context)
    {
        if (!context.Request.Headers.TryGetValue(SiteServerPaths.ForwardedAgentCertificateHeader, out var header))
        {
            return Resolve(context.Connection.ClientCertificate);
        }

        if (GatewayName(context.Connection.ClientCertificate) is not { } gateway)
        {
            return AgentIdentity.Refuse($"the {SiteServerPaths.ForwardedAgentCertificateHeader} header is honoured only from a CEM gateway with a certificate from the Notification Server's CA");
        }

        using var forwarded = Decode(header.ToString());
        if (forwarded is null)
        {
            return AgentIdentity.Refuse($"the {SiteServerPaths.ForwardedAgentCertificateHeader} header from gateway '{gateway}' is not a base64 DER certificate");
        }

        var resolved = Resolve(forwarded);
        return resolved.AgentId is null ? AgentIdentity.Refuse($"{resolved.Reason} (forwarded by gateway '{gateway}')") : resolved;
    }

    /// <summary>The gateway's name when <paramref name="certificate"/> is a gateway site-server certificate of the NS CA, else null (cached by hash).</summary>
    private string? GatewayName(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return null;
        }

        var key = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        if (_gateways.TryGetValue(key, out var cached))
        {
            return cached;
        }

        string? name = null;
        var isGateway = certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Any(rdn => rdn.GetSingleElementType().Value == "2.5.4.11" && rdn.GetSingleElementValue() == "gateway");
        var now = time.GetUtcNow();
        if (isGateway && now >= certificate.NotBefore.ToUniversalTime() && now <= certificate.NotAfter.ToUniversalTime())
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(identity.Ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthOid);
            try
            {
                if (chain.Build(certificate) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(identity.Ca.RawDataMemory.Span))
                {
                    name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
                }
            }
            finally
            {
                foreach (var element in chain.ChainElements)
                {
                    element.Certificate.Dispose();
                }
            }
        }

        if (_gateways.Count >= 1_000)
        {
            _gateways.Clear();
        }

        _gateways[key] = name;
        return name;
    }

    private static X509Certificate2? Decode(string base64)
    {
        var bytes = new byte[base64.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(base64.Trim(), bytes, out var length) || length == 0)
        {
            return null;
        }

        try
        {
            return X509CertificateLoader.LoadCertificate(bytes.AsSpan(0, length));
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The agent id a certificate names, or why it is refused.</summary>
    public AgentIdentity Resolve(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return AgentIdentity.Refuse("no client certificate was presented; the Client Task Agent uses the agent's certificate from its Notification Server");
        }

        var key = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        if (!_cache.TryGetValue(key, out var verdict))
        {
            verdict = Build(certificate);
            if (_cache.Count >= MaxCached)
            {
                _cache.Clear();
            }

            _cache[key] = verdict;
        }

        if (verdict.AgentId is null)
        {
            return AgentIdentity.Refuse(verdict.Reason!);
        }

        var now = time.GetUtcNow();
        return now < verdict.NotBefore || now > verdict.NotAfter
            ? AgentIdentity.Refuse($"the certificate is valid from {verdict.NotBefore:u} to {verdict.NotAfter:u}")
            : new AgentIdentity(verdict.AgentId, null);
    }

    private Verdict Build(X509Certificate2 certificate)
    {
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(identity.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthOid);
        chain.ChainPolicy.VerificationTime = notBefore.AddSeconds(1).UtcDateTime;
        try
        {
            if (!chain.Build(certificate) || !chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(identity.Ca.RawDataMemory.Span))
            {
                return new Verdict(null, "the certificate was not issued by the Notification Server's CA", notBefore, notAfter);
            }
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }

        var agentId = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return agentId is { Length: 32 } && agentId.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0
            ? new Verdict(agentId, null, notBefore, notAfter)
            : new Verdict(null, "the certificate's subject is not CN=<agent id>", notBefore, notAfter);
    }

    private sealed record Verdict(string? AgentId, string? Reason, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
}

/// <summary>An agent id, or why the request is refused.</summary>
internal readonly record struct AgentIdentity(string? AgentId, string? Reason)
{
    public static AgentIdentity Refuse(string reason) => new(null, reason);
}
