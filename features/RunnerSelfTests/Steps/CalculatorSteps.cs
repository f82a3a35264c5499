using System.Globalization;
using FluentAssertions;
using Tcm.Features.Runner;

namespace Tcm.Features.RunnerSelfTests.Steps;

/// <summary>What the calculator buttons do.</summary>
internal enum Operation
{
    Add,
    Multiply,
}

/// <summary>The thing under test in the runner's self-test: a calculator with a memory of entered numbers.</summary>
internal sealed class Calculator
{
    public bool IsOn { get; set; }

    public List<double> Entered { get; } = [];

    public double Result { get; private set; }

    public string? Error { get; private set; }

    public void Press(Operation operation)
    {
        if (!IsOn)
        {
            Error = "off";
            return;
        }

        Result = operation == Operation.Add ? Entered.Sum() : Entered.Aggregate(1.0, (a, b) => a * b);
        Entered.Clear();
    }

    /// <summary>Sums of products: "2 + 3 * 4" is 14.</summary>
    public void Evaluate(string expression) =>
        Result = expression.Split('+').Sum(term => term.Split('*').Aggregate(1.0, (product, factor) => product * double.Parse(factor.Trim(), CultureInfo.InvariantCulture)));
}

/// <summary>One row of "I have entered these numbers:".</summary>
internal sealed record NumberRow(double Number, string Note = "");

[Binding]
internal sealed class CalculatorSteps(Calculator calculator)
{
    [Given("^a calculator that is switched on$")]
    public void GivenACalculatorThatIsSwitchedOn() => calculator.IsOn = true;

    [Given(@"^I have entered (-?\d+(?:\.\d+)?) into the calculator$")]
    public void GivenIHaveEnteredIntoTheCalculator(double number) => calculator.Entered.Add(number);

    [Given("^I have entered these numbers:$")]
    public void GivenIHaveEnteredTheseNumbers(DataTable table) =>
        calculator.Entered.AddRange(table.CreateSet<NumberRow>().Select(r => r.Number));

    [When(@"^I press (\w+)$")]
    public void WhenIPress(Operation operation) => calculator.Press(operation);

    [When("^I evaluate:$")]
    public async Task WhenIEvaluate(string expression)
    {
        await Task.Yield();
        calculator.Evaluate(expression);
    }

    [Then(@"^the result should be (-?\d+(?:\.\d+)?)$")]
    public void ThenTheResultShouldBe(double expected) => calculator.Result.Should().Be(expected);

    [Then("^the display should not show an error$")]
    public void ThenTheDisplayShouldNotShowAnError() => calculator.Error.Should().BeNull();
}
