using System.Text.Json;
using System.Text.Json.Serialization;
using Tcm.Protocol;

namespace Tcm.Agent.State;

/// <summary>
/// Keeps the state as <c>agent-state.json</c> in a folder. Writes are atomic (temporary file, then rename over the old one),
/// so a crash mid-write leaves the previous state intact.
/// </summary>
public sealed class FileAgentStateStore : IAgentStateStore
{
    private const string FileName = "agent-state.json";
    // why: the state holds the agent's private key; on Unix the file is created readable by its owner only (mode 600).
    private static readonly FileStreamOptions CreateOptions = OperatingSystem.IsWindows()
        ? new() { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 4096, Options = FileOptions.Asynchronous }
        : new() { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 4096, Options = FileOptions.Asynchronous, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };

    private readonly string _directory;
    private readonly string _path;

    /// <summary>A store in <paramref name="directory"/>; the folder is created on first save.</summary>
    public FileAgentStateStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _directory = directory;
        _path = Path.Combine(directory, FileName);
    }

    /// <inheritdoc/>
    public async ValueTask<AgentState?> LoadAsync(CancellationToken ct)
    {
        if (!File.Exists(_path))
        {
            return null;
        }

        await using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
        return await JsonSerializer.DeserializeAsync(stream, AgentStateJsonContext.Default.AgentState, ct).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask SaveAsync(AgentState state, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(state);
        Directory.CreateDirectory(_directory);
        // A unique temp name: two saves racing must not write into the same temporary file.
        var temp = Path.Combine(_directory, $"{FileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, CreateOptions))
            {
                await JsonSerializer.SerializeAsync(stream, state, AgentStateJsonContext.Default.AgentState, ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, _path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}

/// <summary>Source-generated JSON metadata for the agent's own files, with the protocol's conventions.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowOutOfOrderMetadataProperties = true,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(AgentState))]
[JsonSerializable(typeof(Message))]
internal sealed partial class AgentStateJsonContext : JsonSerializerContext;
