using Tcm.Hosting.Certificates;
using Tcm.Testing;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class VerdictCacheTests
{
    [Fact]
    public void Get_BuildsOncePerCertificate()
    {
        using var leaf = TestCertificates.SelfSignedClient("agent");
        var cache = new VerdictCache<string>(10);
        var builds = 0;

        cache.Get(leaf, c => $"built {++builds}").Should().Be("built 1");
        cache.Get(leaf, c => $"built {++builds}").Should().Be("built 1");

        builds.Should().Be(1);
    }

    [Fact]
    public void Get_AtCapacity_StartsAgain()
    {
        using var first = TestCertificates.SelfSignedClient("first");
        using var second = TestCertificates.SelfSignedClient("second");
        var cache = new VerdictCache<int>(1);

        cache.Get(first, _ => 1);
        cache.Get(second, _ => 2);

        cache.Count.Should().Be(1, "a full cache is emptied rather than grown");
        cache.Get(first, _ => 3).Should().Be(3, "the first verdict was dropped and is built again");
    }
}
