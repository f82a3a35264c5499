using System.Security.Cryptography;
using System.Text;

namespace Tcm.Hosting.Data;

/// <summary>
/// The server's data folder (absolute, created on first use) and the files every server keeps in it the same way: files only
/// the owner may read, and the admin key.
/// </summary>
public sealed class DataFolder
{
    /// <summary>The admin key's file name.</summary>
    public const string AdminKeyFile = "admin.key";

    /// <summary>Resolves <paramref name="path"/> against the current directory and creates the folder.</summary>
    public DataFolder(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The absolute path of the folder.</summary>
    public string Path { get; }

    /// <summary>The absolute path of <paramref name="relative"/> inside the folder.</summary>
    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    /// <summary>The configured key, or the one in <c>admin.key</c>, created on first run (24 random bytes in hex).</summary>
    public string LoadOrCreateAdminKey(string? configuredKey)
    {
        if (!string.IsNullOrWhiteSpace(configuredKey))
        {
            return configuredKey.Trim();
        }

        var path = File(AdminKeyFile);
        if (System.IO.File.Exists(path) && System.IO.File.ReadAllText(path).Trim() is { Length: >= 16 } existing)
        {
            return existing;
        }

        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        WritePrivateFile(path, Encoding.UTF8.GetBytes(key + "\n"));
        return key;
    }

    /// <summary>Writes a file readable by its owner only (mode 600 on Unix), replacing it atomically.</summary>
    public static void WritePrivateFile(string path, ReadOnlySpan<byte> content)
    {
        var temp = path + ".tmp";
        using (var stream = OperatingSystem.IsWindows()
            ? new FileStream(temp, FileMode.Create, FileAccess.Write)
            : new FileStream(temp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            stream.Write(content);
        }

        if (!OperatingSystem.IsWindows())
        {
            // why: UnixCreateMode applies only when the file is created; a temp file left behind keeps its old mode.
            System.IO.File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        System.IO.File.Move(temp, path, overwrite: true);
    }

    /// <summary>Writes UTF-8 text readable by its owner only, replacing the file atomically.</summary>
    public static void WritePrivateFile(string path, string content) => WritePrivateFile(path, Encoding.UTF8.GetBytes(content));
}
