using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>Checks <c>expect:</c> (a mapping of name: expression, or a list of expressions) with the <see cref="ConditionParser"/>.</summary>
internal sealed class ExpectationValidator(ValidationContext context)
{
    public List<Expectation> Validate(YamlNode node)
    {
        var result = new List<Expectation>();
        var entries = new List<(string Name, YamlNode NameNode, YamlNode Value)>();
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is YamlScalarNode { Value: { } name })
                    {
                        entries.Add((name, key, value));
                    }
                    else
                    {
                        context.Error(key.Start, "an expectation's name must be plain text");
                    }
                }

                break;
            case YamlSequenceNode sequence:
                entries.AddRange(sequence.Children.Select(item => (item is YamlScalarNode { Value: { } text } ? text : "?", item, item)));
                break;
            default:
                context.Error(node.Start, $"'expect' must be a mapping of name: expectation (got {ValidationContext.Describe(node)})");
                return result;
        }

        foreach (var (name, nameNode, value) in entries)
        {
            if (value is not YamlScalarNode { Value: { Length: > 0 } text } scalar)
            {
                context.Error(value.Start, $"expectation '{name}' must be an expression like 'cem >= 99% of home-vpn within 10s after vpn-flip' (got {ValidationContext.Describe(value)})");
                continue;
            }

            if (result.Any(r => r.Name == name))
            {
                context.Error(nameNode.Start, $"there is already an expectation named '{name}'");
            }

            var (expectation, errors) = ConditionParser.ParseExpectation(name, text, context, ValidationContext.Position(scalar.Start));
            foreach (var e in errors)
            {
                context.ErrorInScalar(scalar, e);
            }

            if (expectation is not null)
            {
                result.Add(expectation);
            }
        }

        return result;
    }
}
