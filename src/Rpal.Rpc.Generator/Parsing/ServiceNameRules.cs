namespace Rpal.Rpc.Generator.Parsing;

/// <summary>
/// The rule for a service's registered name, as RpalServiceAttribute documents it: 1 to 64
/// characters from [A-Za-z0-9._-], not starting with a dot (the name becomes a file name in
/// the runtime directory, so no separators, no hidden files).
/// </summary>
internal static class ServiceNameRules
{
    public const int MaxLength = 64;

    public static bool IsValid(string? name)
    {
        if (name is null || name.Length == 0 || name.Length > MaxLength || name[0] == '.')
        {
            return false;
        }

        foreach (char c in name)
        {
            bool allowed = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-';
            if (!allowed)
            {
                return false;
            }
        }

        return true;
    }
}
