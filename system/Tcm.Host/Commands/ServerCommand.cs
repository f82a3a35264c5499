using System.CommandLine;
using Microsoft.Extensions.Options;
using Tcm.Hosting;

namespace Tcm.Host.Commands;

/// <summary>
/// What <c>tcm ns</c>, <c>tcm ts</c> and <c>tcm gateway</c> share: the listener and data-folder options (each server's
/// <see cref="TcmServerOptions"/>), turning options into configuration, and starting the server with its failures printed as
/// one line a user can act on instead of a stack trace.
/// </summary>
internal sealed class ServerCommand
{
    private readonly string _name;
    private readonly List<(Option Option, string Key, Func<ParseResult, string?> Value)> _settings = [];

    /// <summary>The options of <c>tcm {name}</c>, with the server's own wording of what they mean.</summary>
    public ServerCommand(string name, string data, string port, string publicHost)
    {
        _name = name;
        Setting(new Option<string?>("--data") { Description = data }, nameof(TcmServerOptions.DataDirectory));
        Setting(new Option<int?>("--port") { Description = port }, nameof(TcmServerOptions.Port));
        Setting(new Option<string?>("--listen") { Description = "Address to listen on. Default: 127.0.0.1" }, nameof(TcmServerOptions.ListenAddress));
        Setting(new Option<string?>("--public-host") { Description = publicHost }, nameof(TcmServerOptions.PublicHostName));
    }

    /// <summary>An option that, when given, is written into the server's configuration section under <paramref name="key"/>.</summary>
    public Option<T> Setting<T>(Option<T> option, string key)
    {
        _settings.Add((option, key, parse => parse.GetValue(option)?.ToString()));
        return option;
    }

    /// <summary>The command with the settings first, then <paramref name="more"/>; unmatched tokens are left to the configuration (<c>--Section:Key=value</c>).</summary>
    public Command Create(string description, params Option[] more)
    {
        var command = new Command(_name, description);
        foreach (var option in _settings.Select(s => s.Option).Concat(more))
        {
            command.Options.Add(option);
        }

        command.TreatUnmatchedTokensAsErrors = false;
        return command;
    }

    /// <summary>A builder over the command line's unmatched tokens, with every given setting written into <paramref name="sectionName"/>.</summary>
    public WebApplicationBuilder CreateBuilder(ParseResult parse, string sectionName, Action<WebApplicationBuilder>? addConfiguration = null)
    {
        var builder = WebApplication.CreateBuilder(parse.UnmatchedTokens.ToArray());
        addConfiguration?.Invoke(builder);
        var section = builder.Configuration.GetSection(sectionName);
        foreach (var (_, key, value) in _settings)
        {
            Set(section, key, value(parse));
        }

        return builder;
    }

    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/> when the option was given.</summary>
    public static void Set(IConfigurationSection section, string key, string? value)
    {
        if (value is not null)
        {
            section[key] = value;
        }
    }

    /// <summary>
    /// Starts the server (<see cref="StartAsync"/>), has <paramref name="announce"/> print where it listens from the server's
    /// <typeparamref name="TInfo"/> and <typeparamref name="TOptions"/>, and runs until Ctrl+C; returns the exit code.
    /// </summary>
    public async Task<int> RunAsync<TOptions, TInfo>(
        WebApplicationBuilder builder, Action<WebApplicationBuilder> add, Action<WebApplication> map, Func<TInfo, TOptions, CancellationToken, Task> announce, CancellationToken ct)
        where TOptions : class
        where TInfo : notnull
    {
        var (app, exitCode) = await StartAsync(builder, add, map, ct);
        if (app is null)
        {
            return exitCode;
        }

        await announce(app.Services.GetRequiredService<TInfo>(), app.Services.GetRequiredService<IOptions<TOptions>>().Value, ct);
        Console.WriteLine("Press Ctrl+C to stop.");
        await app.WaitForShutdownAsync(ct);
        return 0;
    }

    /// <summary>
    /// Adds the server, builds, maps and starts it. On a failure a user can fix (settings, identity, registration) prints
    /// <c>tcm {name}: ...</c> and returns the exit code (2, or 3 when the Notification Server cannot be reached) with no application.
    /// </summary>
    private async Task<(WebApplication? App, int ExitCode)> StartAsync(WebApplicationBuilder builder, Action<WebApplicationBuilder> add, Action<WebApplication> map, CancellationToken ct)
    {
        add(builder);
        WebApplication? app = null;
        string problem;
        int exitCode;
        try
        {
            // why: building configures Kestrel, which reads (and so validates) the options.
            app = builder.Build();
            map(app);
            await app.StartAsync(ct);
            return (app, 0);
        }
        catch (OptionsValidationException ex)
        {
            (problem, exitCode) = ($"invalid settings:\n  {string.Join("\n  ", ex.Failures)}", 2);
        }
        catch (InvalidOperationException ex)
        {
            (problem, exitCode) = (ex.Message, 2);
        }
        catch (HttpRequestException ex)
        {
            (problem, exitCode) = ($"cannot reach the Notification Server to register: {ex.Message}", 3);
        }

        await Console.Error.WriteLineAsync($"tcm {_name}: {problem}");
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        return (null, exitCode);
    }
}
