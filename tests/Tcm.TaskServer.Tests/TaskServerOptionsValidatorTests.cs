namespace Tcm.TaskServer.Tests;

/// <summary>The Task Server's options as checked at start: the Notification Server's URL, or its nodes' URLs.</summary>
public sealed class TaskServerOptionsValidatorTests
{
    [Theory]
    [InlineData("https://ns.corp:4443")]
    [InlineData("https://node-a.corp:4443,https://node-b.corp:4443")]
    [InlineData(" https://node-a.corp:4443 , https://node-b.corp:4443 ,")]
    public void OneNodeOrSeveral_AreValid(string url) =>
        new TaskServerOptionsValidator().Validate(null, new TaskServerOptions { NotificationServerUrl = url }).Succeeded.Should().BeTrue();

    [Theory]
    [InlineData("")]
    [InlineData(" , ")]
    [InlineData("http://ns.corp:4443")]
    [InlineData("https://node-a.corp:4443,node-b.corp:4443")]
    public void NoNode_OrOneThatIsNotAnHttpsUrl_IsRefusedByName(string url) =>
        new TaskServerOptionsValidator().Validate(null, new TaskServerOptions { NotificationServerUrl = url }).Failures.Should()
            .ContainSingle().Which.Should().StartWith("TaskServer:NotificationServerUrl must be the NS's https:// URL");

    [Fact]
    public void SeveralNodes_AreCalledInTheOrderListed()
    {
        var options = new TaskServerOptions { NotificationServerUrl = "https://node-b.corp:4443, https://node-a.corp:4443" };

        options.NotificationServerNodes().Should().Equal(new Uri("https://node-b.corp:4443"), new Uri("https://node-a.corp:4443"));
    }
}
