namespace Rpal.Runtime.Tests;

/// <summary>Finds the repository checkout these tests were built from.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> s_path = new(Find);

    /// <summary>The folder holding Rpal.sln, found by walking up from the test assembly.</summary>
    public static string Path => s_path.Value;

    private static string Find()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Rpal.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Rpal.sln was not found in '{AppContext.BaseDirectory}' or any folder above it.");
    }
}
