using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tcm.Hosting.Data;
using Tcm.Protocol;
using HttpRequestMessage = System.Net.Http.HttpRequestMessage;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Host.Commands;

/// <summary>
/// What the <c>tcm ns</c> commands that call a running Notification Server share: the options that say where it is and how to
/// trust it (<c>--data</c>, <c>--server</c>, <c>--admin-key</c>), an admin client over its CA, one request with its failures said
/// as one line, and the exit codes (2: a problem the user can fix, 3: the server cannot be reached).
/// </summary>
internal sealed class NsAdminClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly X509Certificate2 _ca;
    private readonly string _command;

    private NsAdminClient(HttpClient http, X509Certificate2 ca, string command)
    {
        _http = http;
        _ca = ca;
        _command = command;
    }

    /// <summary>The server's address.</summary>
    public Uri Server => _http.BaseAddress!;

    /// <summary>The options every such command takes.</summary>
    public sealed class Options
    {
        public Option<string> Data { get; } = new("--data") { Description = "The Notification Server's data folder; its admin key (admin.key) and CA certificate (ca.pem) are read from there. Default: data/ns", DefaultValueFactory = _ => "data/ns" };
        public Option<string> Server { get; } = new("--server") { Description = "Address of the running Notification Server. Default: https://localhost:4443", DefaultValueFactory = _ => "https://localhost:4443" };
        public Option<string?> AdminKey { get; } = new("--admin-key") { Description = "Admin API key. Default: the one in <data>/admin.key" };

        public void AddTo(Command command)
        {
            command.Options.Add(Data);
            command.Options.Add(Server);
            command.Options.Add(AdminKey);
        }

        /// <summary>A client for the command <paramref name="name"/> (<c>tcm ns {name}</c>), or the exit code of why there is none.</summary>
        public Task<(NsAdminClient? Client, int ExitCode)> ConnectAsync(ParseResult parse, string name, CancellationToken ct) =>
            NsAdminClient.ConnectAsync(parse.GetValue(Data)!, parse.GetValue(Server)!, parse.GetValue(AdminKey), name, ct);
    }

    /// <summary>Sends <paramref name="request"/>; a success comes back, anything else is said on stderr (the response is then null).</summary>
    public async Task<(HttpResponseMessage? Response, int ExitCode)> SendAsync(HttpRequestMessage request, string what, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            return (null, await FailAsync(_command, $"cannot reach the Notification Server at {Server}: {ex.Message}", exitCode: 3));
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, await FailAsync(_command, $"the Notification Server at {Server} did not answer within 30 s", exitCode: 3));
        }

        if (response.IsSuccessStatusCode)
        {
            return (response, 0);
        }

        using (response)
        {
            var why = await ReadErrorAsync(response, ct);
            return (null, await FailAsync(_command, $"the Notification Server refused {what} ({(int)response.StatusCode} {response.ReasonPhrase}): {why}"));
        }
    }

    /// <summary>Says <paramref name="problem"/> on stderr as <c>tcm ns {command}: ...</c> and returns <paramref name="exitCode"/>.</summary>
    public static async Task<int> FailAsync(string command, string problem, int exitCode = 2)
    {
        await Console.Error.WriteLineAsync($"tcm ns {command}: {problem}");
        return exitCode;
    }

    public void Dispose()
    {
        _http.Dispose();
        _ca.Dispose();
    }

    private static async Task<(NsAdminClient?, int)> ConnectAsync(string dataDirectory, string serverAddress, string? adminKey, string command, CancellationToken ct)
    {
        if (!Uri.TryCreate(serverAddress, UriKind.Absolute, out var server) || server.Scheme != Uri.UriSchemeHttps)
        {
            return (null, await FailAsync(command, $"--server '{serverAddress}' must be an https:// address, e.g. https://localhost:4443"));
        }

        var keyPath = Path.Combine(dataDirectory, DataFolder.AdminKeyFile);
        if (adminKey is null && !File.Exists(keyPath))
        {
            return (null, await FailAsync(command, $"no admin key at '{Path.GetFullPath(keyPath)}': has 'tcm ns --data {dataDirectory}' run, or give --admin-key"));
        }

        var caPath = Path.Combine(dataDirectory, "ca.pem");
        if (!File.Exists(caPath))
        {
            return (null, await FailAsync(command, $"no CA certificate at '{Path.GetFullPath(caPath)}': the Notification Server writes it there when it starts with --data {dataDirectory}"));
        }

        var key = adminKey ?? (await File.ReadAllTextAsync(keyPath, ct)).Trim();
        var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(caPath, ct));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ServerTrust.ValidateServer(certificate, errors, ca);
        var http = new HttpClient(handler) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, key);
        return (new NsAdminClient(http, ca, command), 0);
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return JsonSerializer.Deserialize(text, ProtocolJsonContext.Default.ErrorBody)?.Detail ?? text;
        }
        catch (JsonException)
        {
            // why: whatever answered may not be a TCM server (a proxy, another web server): show what it said.
            return text.Length > 200 ? text[..200] : text;
        }
    }
}
