/* Standalone driver for the fuzz harnesses: runs LLVMFuzzerTestOneInput over
 * every file named on the command line (directories are walked one level).
 * Used for the CI smoke run over the committed seed corpora, in normal and
 * sanitizer builds; real fuzzing links the same harness with -fsanitize=fuzzer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static int
run_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf;
  long n;

  if (!f) {
    perror (path);
    return 1;
  }
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = malloc (n > 0 ? (size_t) n : 1);
  if (n > 0 && fread (buf, 1, (size_t) n, f) != (size_t) n) {
    fclose (f);
    free (buf);
    return 1;
  }
  fclose (f);
  LLVMFuzzerTestOneInput (buf, (size_t) n);
  free (buf);
  return 0;
}

int
main (int argc, char **argv)
{
  int i, runs = 0, errors = 0;

  for (i = 1; i < argc; i++) {
    struct stat st;
    if (stat (argv[i], &st) != 0) {
      perror (argv[i]);
      return 1;
    }
    if (S_ISDIR (st.st_mode)) {
      DIR *d = opendir (argv[i]);
      struct dirent *e;
      while (d && (e = readdir (d))) {
        char path[4096];
        if (e->d_name[0] == '.')
          continue;
        snprintf (path, sizeof (path), "%s/%s", argv[i], e->d_name);
        errors += run_file (path);
        runs++;
      }
      if (d)
        closedir (d);
    } else {
      errors += run_file (argv[i]);
      runs++;
    }
  }
  printf ("%d inputs run, %d unreadable\n", runs, errors);
  return (runs == 0 || errors) ? 1 : 0;
}
