using Tcm.Protocol;

namespace Tcm.Protocol.Tests;

public sealed class MaintenanceWindowTests
{
    private static readonly DateTimeOffset Day = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("02:00", "04:00", "03:00", "03:00")]
    [InlineData("02:00", "04:00", "01:30", "02:00")]
    [InlineData("02:00", "04:00", "04:00", "1.02:00")]
    [InlineData("22:00", "02:00", "23:30", "23:30")]
    [InlineData("22:00", "02:00", "01:59", "01:59")]
    [InlineData("22:00", "02:00", "12:00", "22:00")]
    [InlineData("05:00", "05:00", "12:00", "12:00")]
    public void NextOpening_IsNowInsideAWindow_ElseTheNextStart(string start, string end, string now, string expected)
    {
        var opening = MaintenanceWindow.NextOpening([new MaintenanceWindow { Start = start, End = end }], Day + TimeSpan.Parse(now, System.Globalization.CultureInfo.InvariantCulture));

        opening.Should().Be(Day + TimeSpan.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void NextOpening_OfSeveralWindows_IsTheEarliest_AndWithoutWindowsIsNow()
    {
        var windows = new[] { new MaintenanceWindow { Start = "20:00", End = "21:00" }, new MaintenanceWindow { Start = "13:00", End = "14:00" } };

        MaintenanceWindow.NextOpening(windows, Day.AddHours(12)).Should().Be(Day.AddHours(13));
        MaintenanceWindow.NextOpening(null, Day.AddHours(12)).Should().Be(Day.AddHours(12));
        MaintenanceWindow.NextOpening([], Day.AddHours(12)).Should().Be(Day.AddHours(12));
    }

    [Theory]
    [InlineData("noon", "04:00", "start")]
    [InlineData("02:00", "25:00", "end")]
    [InlineData("02:00", "04:00", null)]
    public void Check_NamesTheFieldThatIsNotATimeOfDay(string start, string end, string? field)
    {
        var problem = new MaintenanceWindow { Start = start, End = end }.Check();

        if (field is null)
        {
            problem.Should().BeNull();
        }
        else
        {
            problem.Should().Contain(field);
        }
    }
}
