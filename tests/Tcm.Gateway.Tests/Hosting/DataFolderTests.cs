using Tcm.Hosting.Data;
using Tcm.Testing;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class DataFolderTests : IDisposable
{
    private readonly TemporaryFolder _folder = new("hosting");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void NewFolder_IsCreated_AndAbsolute()
    {
        var folder = new DataFolder(Path.GetRelativePath(Environment.CurrentDirectory, _folder.Path));

        folder.Path.Should().Be(Path.GetFullPath(_folder.Path));
        Directory.Exists(_folder.Path).Should().BeTrue();
    }

    [Fact]
    public void AdminKey_IsGeneratedOnce_ThenReused_AndAConfiguredKeyWins()
    {
        var folder = new DataFolder(_folder.Path);

        var generated = folder.LoadOrCreateAdminKey(null);

        generated.Should().HaveLength(48);
        new DataFolder(_folder.Path).LoadOrCreateAdminKey(" ").Should().Be(generated, "the key in admin.key is reused on the next start");
        folder.LoadOrCreateAdminKey(" configured-key-of-some-length ").Should().Be("configured-key-of-some-length");
        File.ReadAllText(folder.File(DataFolder.AdminKeyFile)).Trim().Should().Be(generated);
    }

    [Fact]
    public void AdminKey_TooShortInTheFile_IsReplaced()
    {
        var folder = new DataFolder(_folder.Path);
        File.WriteAllText(folder.File(DataFolder.AdminKeyFile), "short\n");

        folder.LoadOrCreateAdminKey(null).Should().HaveLength(48);
    }

    [Fact]
    public void PrivateFile_IsReadableByItsOwnerOnly_EvenWhenATempFileWasLeftBehind()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var path = Path.Combine(new DataFolder(_folder.Path).Path, "secret");
        File.WriteAllText(path + ".tmp", "left over");
        File.SetUnixFileMode(path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        DataFolder.WritePrivateFile(path, "content");

        File.ReadAllText(path).Should().Be("content");
        File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Exists(path + ".tmp").Should().BeFalse();
    }
}
