"""The CMS-1500 (02/12) paper claim: the form as data, what a claim puts in it, and the PDF."""
