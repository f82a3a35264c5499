namespace Tcm.NotificationServer.Tests.Infrastructure;

internal static class PolicyDefaults
{
    public static CommunicationProfile DefaultProfile => Tcm.NotificationServer.Policy.PolicyService.DefaultProfile;
}
