using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tcm.Hosting.Certificates;
using Tcm.Hosting.Data;
using Tcm.Hosting.Registration;
using Tcm.Protocol;

namespace Tcm.TaskServer.Identity;

/// <summary>
/// Who the Task Server is: the site-server certificate its NS signed (subject <c>CN={name}, OU=task-server</c>), used both as TLS server
/// certificate towards agents and as client certificate towards the NS, and the NS CA it validates agents and the NS with. Registered on
/// first run with the admin's token and a CSR; kept in the data folder (<c>identity.json</c>, key in <c>identity.key</c>, owner-only).
/// </summary>
internal sealed partial class TaskServerIdentity : IDisposable
{
    internal const string IdentityFile = "identity.json";
    internal const string KeyFile = "identity.key";

    /// <summary>How long the Notification Server may take to answer the registration.</summary>
    private static readonly TimeSpan RegistrationTimeout = TimeSpan.FromSeconds(30);

    private TaskServerIdentity(SiteServerRegisterResponse registration, string privateKeyPem)
    {
        Registration = registration;
        Certificate = LoadWithKey(registration.CertificatePem, privateKeyPem);
        Ca = X509Certificate2.CreateFromPem(registration.CaCertificatePem);
    }

    public SiteServerRegisterResponse Registration { get; }

    public string Id => Registration.Id;

    public string Name => Registration.Name;

    /// <summary>The site-server certificate with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The NS CA.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>
    /// Loads the identity from <paramref name="dataDirectory"/>, or registers with the NS (token + CSR) when there is none. Throws
    /// <see cref="InvalidOperationException"/> with what to do when registration is impossible (no token, no CA, NS refuses).
    /// </summary>
    public static async Task<TaskServerIdentity> LoadOrRegisterAsync(TaskServerOptions options, string dataDirectory, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        var identityPath = Path.Combine(dataDirectory, IdentityFile);
        var keyPath = Path.Combine(dataDirectory, KeyFile);
        if (File.Exists(identityPath) && File.Exists(keyPath))
        {
            var saved = JsonSerializer.Deserialize(await File.ReadAllTextAsync(identityPath, ct).ConfigureAwait(false), ProtocolJsonContext.Default.SiteServerRegisterResponse)
                ?? throw new InvalidOperationException($"'{identityPath}' is empty; delete it (and '{keyPath}') to register again.");
            var identity = new TaskServerIdentity(saved, await File.ReadAllTextAsync(keyPath, ct).ConfigureAwait(false));
            Log.Loaded(logger, identity.Name, identity.Id, identityPath);
            return identity;
        }

        if (string.IsNullOrWhiteSpace(options.RegistrationToken))
        {
            throw new InvalidOperationException(
                $"The Task Server has no identity in '{dataDirectory}' and no registration token: an admin creates one with POST /tcm/admin/site-servers " +
                "{\"name\":\"ts1\",\"kind\":\"task-server\"}; pass it as TaskServer:RegistrationToken (tcm ts --token).");
        }

        var caPem = ReadNotificationServerCa(options)
            ?? throw new InvalidOperationException("The Task Server needs the Notification Server's CA to register: TaskServer:NotificationServerCaFile (tcm ts --ns-ca) or NotificationServerCaPem.");
        using var ca = X509Certificate2.CreateFromPem(caPem);
        var (key, csr) = SiteServerRegistrar.NewKey("CN=tcm-task-server");
        using (key)
        {
            var request = new SiteServerRegisterRequest
            {
                RegistrationToken = options.RegistrationToken.Trim(),
                HostNames = HostNames(options),
                Address = $"{options.PublicHostName}:{options.Port}",
                CertificateSigningRequestPem = csr,
                MaxAgents = options.MaxAgents,
                Site = options.Site,
            };

            using var handler = new SocketsHttpHandler
            {
                UseProxy = false,
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, c, _, e) => CertificateTrust.ValidateServer(c, e, ca) },
            };
            var ns = options.NotificationServerNodes()[0]!;
            Log.Registering(logger, new Uri(ns, SiteServerPaths.Register).ToString());
            var registration = await SiteServerRegistrar.RegisterAsync(handler, ns, request,
                "The Notification Server refused the Task Server's registration", RegistrationTimeout, time, ct).ConfigureAwait(false);
            var keyPem = key.ExportPkcs8PrivateKeyPem();
            Directory.CreateDirectory(dataDirectory);
            DataFolder.WritePrivateFile(keyPath, keyPem);
            DataFolder.WritePrivateFile(identityPath, JsonSerializer.Serialize(registration, ProtocolJsonContext.Default.SiteServerRegisterResponse));
            Log.Registered(logger, registration.Name, registration.Id);
            return new TaskServerIdentity(registration, keyPem);
        }
    }

    /// <summary>The SANs the Task Server asks for: the public name, the listen address, loopback, the machine name and the configured extras.</summary>
    internal static List<string> HostNames(TaskServerOptions options)
    {
        var names = new List<string> { options.PublicHostName, "localhost", "127.0.0.1", "::1", Environment.MachineName };
        if (IPAddress.TryParse(options.ListenAddress, out var listen) && !listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any))
        {
            names.Add(listen.ToString());
        }

        names.AddRange(options.HostNames);
        return [.. names.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The NS CA from the options (PEM text, else the file), or null.</summary>
    internal static string? ReadNotificationServerCa(TaskServerOptions options) =>
        !string.IsNullOrWhiteSpace(options.NotificationServerCaPem) ? options.NotificationServerCaPem
        : !string.IsNullOrWhiteSpace(options.NotificationServerCaFile) ? File.ReadAllText(options.NotificationServerCaFile)
        : null;

    private static X509Certificate2 LoadWithKey(string certificatePem, string keyPem)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        // why: SslStream on Windows cannot use an ephemeral key; a PFX round trip works everywhere.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Ca.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Task Server identity '{Name}' ({Id}) loaded from '{Path}'")]
        public static partial void Loaded(ILogger logger, string name, string id, string path);

        [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Registering the Task Server with its Notification Server at {Uri}")]
        public static partial void Registering(ILogger logger, string uri);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Registered as Task Server '{Name}' ({Id})")]
        public static partial void Registered(ILogger logger, string name, string id);
    }
}
