using System.Security.Cryptography.X509Certificates;
using Tcm.Hosting.Listeners;
using Tcm.Testing;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class ServerCertificateHolderTests
{
    [Fact]
    public void BeforeACertificateIsSet_AHandshakeIsRefused()
    {
        var holder = new ServerCertificateHolder();

        holder.Certificate.Should().BeNull();
        var context = () => holder.Context;
        context.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void ACertificateWithoutItsKey_IsRefused()
    {
        using var ca = TestCertificates.Ca();
        using var publicOnly = X509CertificateLoader.LoadCertificate(ca.RawData);

        var set = () => new ServerCertificateHolder().Set(publicOnly);

        set.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void TheLastCertificateSet_IsServed()
    {
        using var ca = TestCertificates.Ca();
        using var first = TestCertificates.Issue(ca, "CN=first", serverAuth: true);
        using var second = TestCertificates.Issue(ca, "CN=second", serverAuth: true);
        var holder = new ServerCertificateHolder();

        holder.Set(first);
        holder.Set(second);

        holder.Certificate.Should().BeSameAs(second);
        holder.Context.TargetCertificate.Subject.Should().Be("CN=second");
    }
}
