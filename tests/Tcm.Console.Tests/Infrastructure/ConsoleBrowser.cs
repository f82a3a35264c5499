namespace Tcm.Console.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright against one server's console: pages whose script errors are collected in
/// <see cref="Errors"/>, sign-in, and full-page screenshots into <see cref="ScreenshotDirectory"/>.
/// </summary>
internal sealed class ConsoleBrowser : IAsyncDisposable
{
    private static readonly string[] LaunchArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly ITestOutputHelper _output;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser, IBrowserContext context, ITestOutputHelper output)
    {
        _playwright = playwright;
        _browser = browser;
        Context = context;
        _output = output;
    }

    /// <summary><c>TestResults/console-screenshots/</c> under the test run's working directory.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(Directory.GetCurrentDirectory(), "TestResults", "console-screenshots");

    /// <summary>Script errors and console errors of every page opened through <see cref="NewPageAsync"/>.</summary>
    public List<string> Errors { get; } = [];

    public IBrowserContext Context { get; }

    /// <summary>Starts the browser (fails at once with the reason when Chromium is missing) with a 1440x900 window on <paramref name="baseUrl"/>.</summary>
    public static async Task<ConsoleBrowser> LaunchAsync(string baseUrl, ITestOutputHelper output)
    {
        ChromiumFactAttribute.EnsureInstalled();
        Directory.CreateDirectory(ScreenshotDirectory);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumFactAttribute.Path, Headless = true, Args = LaunchArgs });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            IgnoreHTTPSErrors = true,
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
            BaseURL = baseUrl,
        });
        context.SetDefaultTimeout(20_000);
        return new ConsoleBrowser(playwright, browser, context, output);
    }

    /// <summary>The Notification Server a console test drives (named <c>NS-CONSOLE-TEST</c>), once the browser is known to be there.</summary>
    public static Task<NotificationServerHost> StartServerAsync(ITestOutputHelper output, bool tcmEnabled = false)
    {
        ChromiumFactAttribute.EnsureInstalled();
        return NotificationServerHost.StartAsync(output, tcmEnabled, o => o.ServerName = "NS-CONSOLE-TEST");
    }

    /// <summary>A new tab whose errors land in <see cref="Errors"/>.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var page = await Context.NewPageAsync();
        page.PageError += (_, error) => Errors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                Errors.Add(message.Text);
            }
        };
        return page;
    }

    /// <summary>Signs in with the admin key and waits for the Fleet page to have loaded.</summary>
    public static async Task SignInAsync(IPage page, string adminKey)
    {
        await page.GotoAsync("/console/login");
        await page.FillAsync("#admin-key", adminKey);
        await page.ClickAsync("#login-submit");
        await Assertions.Expect(page.Locator("#fleet-stats")).ToBeVisibleAsync();
        // why: the Fleet page subscribes to the live feed once its first page of agents is in; leave it only then.
        await Assertions.Expect(page.Locator("#page-info")).ToContainTextAsync("agents");
    }

    /// <summary>A full-page screenshot <c>{name}.png</c>, without the transient toasts that would hide what is under them.</summary>
    public async Task ShotAsync(IPage page, string name)
    {
        await page.EvaluateAsync("() => document.getElementById('toasts')?.replaceChildren()");
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        _output.WriteLine($"screenshot: {path}");
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
