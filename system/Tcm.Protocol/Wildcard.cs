namespace Tcm.Protocol;

/// <summary>Case-insensitive <c>*</c>/<c>?</c> wildcard matching, as the admin UI's adapter lists and target rules use it.</summary>
public static class Wildcard
{
    /// <summary>Whether <paramref name="text"/> matches <paramref name="pattern"/> as a whole.</summary>
    public static bool IsMatch(string text, string pattern)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(pattern);
        int t = 0, p = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            // '*' is tested first: in the pattern it is always a wildcard, even where the text has a literal '*'.
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t])))
            {
                t++;
                p++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
