using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Tcm.Hosting.Data;
using Tcm.Protocol;
using HttpRequestMessage = System.Net.Http.HttpRequestMessage;

namespace Tcm.Host.Commands;

/// <summary>
/// <c>tcm ns package</c>: asks a running Notification Server for an install package built from one of its communication
/// profiles (each package carries a new registration token) and writes it where an agent's installer can pick it up.
/// </summary>
internal static class PackageCommand
{
    private const string Name = "package";

    public static Command Create()
    {
        var connection = new NsAdminClient.Options();
        var profile = new Option<string>("--profile") { Description = "Id of the communication profile the package is built from. Default: default", DefaultValueFactory = _ => "default" };
        var output = new Option<FileInfo>("--out") { Description = "File to write the package to (readable by its owner only: it holds a registration token)", Required = true };
        var command = new Command(Name, "Build an agent install package from a communication profile of the running Notification Server and write it to a file.")
        {
            profile, output,
        };
        connection.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(connection, parse, parse.GetValue(profile)!, parse.GetValue(output)!, ct));
        return command;
    }

    private static async Task<int> RunAsync(NsAdminClient.Options connection, ParseResult parse, string profileId, FileInfo output, CancellationToken ct)
    {
        var (client, exitCode) = await connection.ConnectAsync(parse, Name, ct);
        if (client is null)
        {
            return exitCode;
        }

        using (client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/tcm/admin/profiles/{Uri.EscapeDataString(profileId)}/package");
            var (response, failed) = await client.SendAsync(request, "the package", ct);
            if (response is null)
            {
                return failed;
            }

            using (response)
            {
                var package = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.InstallPackage, ct);
                if (package is null)
                {
                    return await NsAdminClient.FailAsync(Name, $"the answer from {client.Server} was not an install package");
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
    }
}
