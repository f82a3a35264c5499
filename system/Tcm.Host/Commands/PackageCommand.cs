using System.CommandLine;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tcm.Hosting.Data;
using Tcm.Protocol;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Host.Commands;

/// <summary>
/// <c>tcm ns package</c>: asks a running Notification Server for an install package built from one of its communication
/// profiles (each package carries a new registration token) and writes it where an agent's installer can pick it up.
/// </summary>
internal static class PackageCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The Notification Server's data folder; its admin key (admin.key) and CA certificate (ca.pem) are read from there. Default: data/ns", DefaultValueFactory = _ => "data/ns" };
        var server = new Option<string>("--server") { Description = "Address of the running Notification Server. Default: https://localhost:4443", DefaultValueFactory = _ => "https://localhost:4443" };
        var profile = new Option<string>("--profile") { Description = "Id of the communication profile the package is built from. Default: default", DefaultValueFactory = _ => "default" };
        var output = new Option<FileInfo>("--out") { Description = "File to write the package to (readable by its owner only: it holds a registration token)", Required = true };
        var adminKey = new Option<string?>("--admin-key") { Description = "Admin API key. Default: the one in <data>/admin.key" };
        var command = new Command("package", "Build an agent install package from a communication profile of the running Notification Server and write it to a file.")
        {
            data, server, profile, output, adminKey,
        };
        command.SetAction((parse, ct) => RunAsync(
            parse.GetValue(data)!, parse.GetValue(server)!, parse.GetValue(profile)!, parse.GetValue(output)!, parse.GetValue(adminKey), ct));
        return command;
    }

    private static async Task<int> RunAsync(string dataDirectory, string serverAddress, string profileId, FileInfo output, string? adminKey, CancellationToken ct)
    {
        if (!Uri.TryCreate(serverAddress, UriKind.Absolute, out var server) || server.Scheme != Uri.UriSchemeHttps)
        {
            return await FailAsync($"--server '{serverAddress}' must be an https:// address, e.g. https://localhost:4443");
        }

        var keyPath = Path.Combine(dataDirectory, DataFolder.AdminKeyFile);
        if (adminKey is null && !File.Exists(keyPath))
        {
            return await FailAsync($"no admin key at '{Path.GetFullPath(keyPath)}': has 'tcm ns --data {dataDirectory}' run, or give --admin-key");
        }

        var caPath = Path.Combine(dataDirectory, "ca.pem");
        if (!File.Exists(caPath))
        {
            return await FailAsync($"no CA certificate at '{Path.GetFullPath(caPath)}': the Notification Server writes it there when it starts with --data {dataDirectory}");
        }

        var key = adminKey ?? (await File.ReadAllTextAsync(keyPath, ct)).Trim();
        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(caPath, ct));
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ServerTrust.ValidateServer(certificate, errors, ca);
        using var http = new HttpClient(handler) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, key);

        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync($"/tcm/admin/profiles/{Uri.EscapeDataString(profileId)}/package", content: null, ct);
        }
        catch (HttpRequestException ex)
        {
            return await FailAsync($"cannot reach the Notification Server at {server}: {ex.Message}", exitCode: 3);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return await FailAsync($"the Notification Server at {server} did not answer within 30 s", exitCode: 3);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var why = await ReadErrorAsync(response, ct);
                return await FailAsync($"the Notification Server refused the package ({(int)response.StatusCode} {response.ReasonPhrase}): {why}");
            }

            var package = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.InstallPackage, ct);
            if (package is null)
            {
                return await FailAsync($"the answer from {server} was not an install package");
            }

            if (output.Directory is { Exists: false } folder)
            {
                folder.Create();
            }

            DataFolder.WritePrivateFile(output.FullName, JsonSerializer.Serialize(package, ProtocolJsonContext.Default.InstallPackage));
            Console.WriteLine($"Wrote the install package of profile '{profileId}' ({package.ServerUrl}) to {output.FullName}");
            return 0;
        }
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

    private static async Task<int> FailAsync(string problem, int exitCode = 2)
    {
        await Console.Error.WriteLineAsync($"tcm ns package: {problem}");
        return exitCode;
    }
}
