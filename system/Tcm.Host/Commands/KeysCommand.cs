using System.CommandLine;
using System.Net.Http.Json;
using Tcm.Hosting.Data;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using HttpRequestMessage = System.Net.Http.HttpRequestMessage;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Host.Commands;

/// <summary>
/// <c>tcm ns keys add|list|revoke</c>: manages the admin keys of a running Notification Server through its admin API (with an
/// administrator's key, by default the one in <c>admin.key</c>). Each change lands in the server's audit trail under the name of
/// the key that made it.
/// </summary>
internal static class KeysCommand
{
    private static readonly string[] Roles = ["administrator", "operator", "viewer"];

    public static Command Create()
    {
        var keys = new Command("keys", """
            Manage the admin keys of the running Notification Server. Each key has a name (who it is, as the audit trail says) and a role:
              administrator  everything, among it the keys
              operator       run actions and terminate agents' connections; read everything
              viewer         read only
            The key in <data>/admin.key is the first administrator key; it cannot be revoked here.
            """);
        keys.Subcommands.Add(Add());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(Revoke());
        return keys;
    }

    private static Command Add()
    {
        var connection = new NsAdminClient.Options();
        var name = new Argument<string>("name") { Description = "The key's name: who uses it (a person, a script); it names the key in the audit trail and is never reused" };
        var role = new Option<string>("--role") { Description = "administrator, operator or viewer", Required = true };
        role.AcceptOnlyFromAmong(Roles);
        var output = new Option<FileInfo?>("--out") { Description = "Write the key to this file (readable by its owner only) instead of printing it" };
        var command = new Command("add", "Add an admin key with a role; the key is shown (or written) this once, the server keeps only its hash.") { name, role, output };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var request = new CreateAdminKeyRequest { Name = parse.GetValue(name), Role = Enum.Parse<AdminRole>(parse.GetValue(role)!, ignoreCase: true) };
            return await CallAsync(connection, parse, "keys add", HttpMethod.Post, "/tcm/admin/keys", JsonContent.Create(request, ProtocolJsonContext.Default.CreateAdminKeyRequest),
                $"the key '{request.Name}'", async (response, ct2) =>
                {
                    var created = (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.AdminKeyCreated, ct2))!;
                    if (parse.GetValue(output) is { } file)
                    {
                        DataFolder.WritePrivateFile(file.FullName, created.Key + Environment.NewLine);
                        Console.WriteLine($"Added the {Role(created.Info.Role)} key '{created.Info.Name}' (id {created.Info.Id}); the key is in {file.FullName}");
                    }
                    else
                    {
                        Console.WriteLine($"Added the {Role(created.Info.Role)} key '{created.Info.Name}' (id {created.Info.Id}). The key, shown only now:");
                        Console.WriteLine(created.Key);
                    }
                }, ct);
        });
        return command;
    }

    private static Command List()
    {
        var connection = new NsAdminClient.Options();
        var command = new Command("list", "List the admin keys: name, role, id, who added them and when, revoked or not (never a key).");
        connection.AddTo(command);
        command.SetAction((parse, ct) => CallAsync(connection, parse, "keys list", HttpMethod.Get, "/tcm/admin/keys", null, "the list of keys", async (response, ct2) =>
        {
            var keys = (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.IReadOnlyListAdminKeyInfo, ct2))!;
            Console.Write(Table(keys));
        }, ct));
        return command;
    }

    private static Command Revoke()
    {
        var connection = new NsAdminClient.Options();
        var key = new Argument<string>("name") { Description = "The name (or id) of the key to revoke" };
        var command = new Command("revoke", "Revoke an admin key: calls and console sessions with it are refused from now on.") { key };
        connection.AddTo(command);
        command.SetAction((parse, ct) =>
        {
            var which = parse.GetValue(key)!;
            return CallAsync(connection, parse, "keys revoke", HttpMethod.Delete, $"/tcm/admin/keys/{Uri.EscapeDataString(which)}", null, $"to revoke '{which}'", (_, _) =>
            {
                Console.WriteLine($"Revoked the key '{which}'.");
                return Task.CompletedTask;
            }, ct);
        });
        return command;
    }

    /// <summary>The keys as a table a person reads.</summary>
    internal static string Table(IReadOnlyList<AdminKeyInfo> keys)
    {
        var rows = keys.Select(k => new[]
        {
            k.Name, Role(k.Role), k.Id,
            k.BuiltIn ? "(admin.key)" : $"{k.CreatedAt:yyyy-MM-dd HH:mm} by {k.CreatedBy}",
            k.RevokedAt is { } at ? $"revoked {at:yyyy-MM-dd HH:mm} by {k.RevokedBy}" : "active",
        }).Prepend(["NAME", "ROLE", "ID", "ADDED", "STATE"]).ToList();
        var widths = Enumerable.Range(0, 5).Select(i => rows.Max(r => r[i].Length)).ToArray();
        return string.Concat(rows.Select(r => string.Join("  ", r.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd() + Environment.NewLine));
    }

    private static string Role(AdminRole role) => Roles[2 - (int)role];

    private static async Task<int> CallAsync(
        NsAdminClient.Options connection, ParseResult parse, string name, HttpMethod method, string path, HttpContent? body, string what,
        Func<HttpResponseMessage, CancellationToken, Task> onSuccess, CancellationToken ct)
    {
        var (client, exitCode) = await connection.ConnectAsync(parse, name, ct);
        if (client is null)
        {
            return exitCode;
        }

        using (client)
        using (var request = new HttpRequestMessage(method, path) { Content = body })
        {
            var (response, failed) = await client.SendAsync(request, what, ct);
            if (response is null)
            {
                return failed;
            }

            using (response)
            {
                await onSuccess(response, ct);
                return 0;
            }
        }
    }
}
